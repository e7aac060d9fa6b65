"""Facilities and cycles.

Every I-SAF record sits at the location of its cycle: a commune/sangkat (6 digits) or, for a
khan's own providers, the urban khan (4 digits). That `location_code` is the column every
jurisdiction check uses.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlmodel import Column, Field

from services.isaf.database import IsafModel
from shared.db.versioning import Versioned


class Facility(IsafModel, Versioned, table=True):
    __tablename__ = "facility"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    location_code: str = Field(sa_column=Column(sa.Text, nullable=False))
    village_code: str | None = Field(default=None, sa_column=Column(sa.Text))
    facility_type: str = Field(sa_column=Column(sa.Text, nullable=False))
    name_km: str = Field(sa_column=Column(sa.Text, nullable=False))
    name_en: str = Field(sa_column=Column(sa.Text, nullable=False))
    created_by: str = Field(sa_column=Column(sa.Text, nullable=False))
    created_at: datetime = Field(sa_column=Column(sa.DateTime(timezone=True), nullable=False))


class Cycle(IsafModel, Versioned, table=True):
    __tablename__ = "cycle"
    __table_args__ = (sa.UniqueConstraint("location_code", "year"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    location_code: str = Field(sa_column=Column(sa.Text, nullable=False))
    year: int = Field(sa_column=Column(sa.SmallInteger, nullable=False))
    stage: str = Field(sa_column=Column(sa.Text, nullable=False))
    stage_changed_at: datetime = Field(sa_column=Column(sa.DateTime(timezone=True), nullable=False))
    created_by: str = Field(sa_column=Column(sa.Text, nullable=False))
    created_at: datetime = Field(sa_column=Column(sa.DateTime(timezone=True), nullable=False))


class StageChange(IsafModel, table=True):
    """A cycle's stage history: who moved it, from what, to what, when, why."""

    __tablename__ = "cycle_stage_change"

    seq: int | None = Field(
        default=None, sa_column=Column(sa.BigInteger, sa.Identity(always=True), primary_key=True)
    )
    cycle_id: uuid.UUID = Field(
        sa_column=Column(
            pg.UUID(as_uuid=True), sa.ForeignKey("cycle.id", ondelete="CASCADE"), nullable=False
        )
    )
    from_stage: str | None = Field(default=None, sa_column=Column(sa.Text))
    to_stage: str = Field(sa_column=Column(sa.Text, nullable=False))
    note: str | None = Field(default=None, sa_column=Column(sa.Text))
    actor: str = Field(sa_column=Column(sa.Text, nullable=False))
    changed_at: datetime = Field(sa_column=Column(sa.DateTime(timezone=True), nullable=False))
