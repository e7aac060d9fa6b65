"""Verification of a person's or household's registration by other systems."""
