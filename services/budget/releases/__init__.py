"""Releases (transfers) of a unit's allocation in tranches: planned and actual dates, delay."""
