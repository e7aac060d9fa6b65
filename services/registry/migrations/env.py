"""Alembic environment of the registry service."""

from services.registry.config import get_settings
from shared.migrations import run_env

run_env(target_metadata=None, default_url=get_settings().database_url)
