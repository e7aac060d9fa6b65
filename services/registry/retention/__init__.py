"""Retention: what the registry stops keeping after a while (expired imports, DCI callbacks
and search answers), one pass at a time across replicas."""
