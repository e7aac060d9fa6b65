"""Enrolments of households and members in programmes."""
