"""Enrolments: a household or a member in a programme, and its life cycle."""
