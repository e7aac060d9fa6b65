"""Alembic environment of the registry service (reads only REGISTRY_DATABASE_URL)."""

from shared.migrations import run_env

run_env(target_metadata=None, service="registry")
