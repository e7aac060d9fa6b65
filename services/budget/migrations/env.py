"""Alembic environment of the budget service (reads only BUDGET_DATABASE_URL)."""

from shared.migrations import run_env

run_env(target_metadata=None, service="budget")
