"""Benefit records: what an enrolment received for a period, how, and whether it arrived."""
