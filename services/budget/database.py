"""The budget service's table base: its own metadata, so its tables never collide with
another service's in a process that imports several (the tests, the AsyncAPI generator)."""

from sqlalchemy.orm import registry
from sqlmodel import SQLModel

from shared.db.engine import new_metadata


class BudgetModel(SQLModel, registry=registry(metadata=new_metadata())):
    """Base of every budget table."""
