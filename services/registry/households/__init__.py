"""Households, their members and their IDPoor status."""
