"""Snapshots for late subscribers: every grievance's state as its events describe it, page by
page, with the outbox position it reflects (the registry's households snapshot's twin; README,
"Catching up a new subscriber"). Reads the grievance table and owns none."""
