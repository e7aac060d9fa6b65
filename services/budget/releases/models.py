"""Releases: tranches of a published allocation to one unit, located at the receiving unit."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlmodel import Column, Field

from services.budget.database import BudgetModel
from shared.db.versioning import Versioned
from shared.jurisdiction import location_index


class Release(BudgetModel, Versioned, table=True):
    __tablename__ = "release"
    __table_args__ = (
        sa.UniqueConstraint("run_id", "admin_code", "tranche"),
        location_index("ix_release_admin_code", "admin_code"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    run_id: uuid.UUID = Field(
        sa_column=Column(pg.UUID(as_uuid=True), sa.ForeignKey("allocation_run.id"), nullable=False)
    )
    fiscal_year: int = Field(sa_column=Column(sa.Integer, nullable=False))
    line_code: str = Field(sa_column=Column(sa.Text, nullable=False))
    admin_code: str = Field(sa_column=Column(sa.Text, nullable=False))
    allocating_admin_code: str = Field(sa_column=Column(sa.Text, nullable=False))
    tranche: int = Field(sa_column=Column(sa.Integer, nullable=False))
    amount_riel: int = Field(sa_column=Column(sa.BigInteger, nullable=False))
    planned_on: date = Field(sa_column=Column(sa.Date, nullable=False))
    released_on: date | None = Field(default=None, sa_column=Column(sa.Date))
    planned_by: str = Field(sa_column=Column(sa.Text, nullable=False))
    planned_at: datetime = Field(sa_column=Column(sa.DateTime(timezone=True), nullable=False))
    recorded_by: str | None = Field(default=None, sa_column=Column(sa.Text))
    recorded_at: datetime | None = Field(default=None, sa_column=Column(sa.DateTime(timezone=True)))
