"""Alembic environment of the isaf service (reads only ISAF_DATABASE_URL)."""

from shared.migrations import run_env

run_env(target_metadata=None, service="isaf")
