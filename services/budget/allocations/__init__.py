"""Allocation runs: a tier divides its envelope over its child units with a formula, exactly,
and keeps what it used so any past run can be explained and recomputed to the riel."""
