"""Allocation formulas: versioned, validated weighted components (equal share, an
indicator, poverty-weighted households, per sub-unit), optional floor and cap per unit."""
