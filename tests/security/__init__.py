"""Attacks on the whole platform: generated jurisdiction checks over every route."""
