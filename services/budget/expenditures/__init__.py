"""Expenditures by a receiving unit against its released amount and line; execution rate."""
