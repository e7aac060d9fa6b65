"""Benefit records of enrolled households and members."""
