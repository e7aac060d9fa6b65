"""Alembic environment of the grievance service (reads only GRIEVANCE_DATABASE_URL)."""

from shared.migrations import run_env

run_env(target_metadata=None, service="grievance")
