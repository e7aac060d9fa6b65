"""Households, their members, their IDPoor poverty status and the history of every change."""
