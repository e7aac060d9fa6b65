"""Alembic environment of the budget service."""

from services.budget.config import get_settings
from shared.migrations import run_env

run_env(target_metadata=None, default_url=get_settings().database_url)
