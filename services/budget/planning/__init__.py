"""Fiscal years (calendar years) and the national envelopes per year and budget line."""
