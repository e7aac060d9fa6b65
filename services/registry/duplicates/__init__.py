"""Suspected duplicate households and their review (merged or dismissed)."""
