"""Optimistic concurrency for SQLModel tables.

A table that inherits `Versioned` gets a `version` column that SQLAlchemy also uses as its
`version_id_col`: every UPDATE checks and bumps it, so of two concurrent writers only one
succeeds and the other's flush raises StaleDataError (answered as 412).
"""

from sqlalchemy.orm import declared_attr
from sqlmodel import Field, SQLModel


class Versioned(SQLModel):
    version: int = Field(default=1, nullable=False)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict:
        return {"version_id_col": cls.__table__.c.version}
