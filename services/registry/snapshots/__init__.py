"""Snapshots for late subscribers: the current state of an aggregate, page by page, with the
outbox position it reflects, so an integrator builds a read model from a snapshot and then
follows the topic from that position (README, "Catching up a new subscriber"). Reads other
aggregates' tables and owns none."""
