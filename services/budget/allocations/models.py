"""Allocation runs and the amount of each unit in them.

A run keeps the formula version and definition, the envelope, every indicator value of every
unit and the datasets it read (`inputs`), so it can be explained and recomputed to the riel.
Its location (for jurisdiction) is the allocating unit's code ('' for the national tier); a
unit's amount is located at the receiving unit.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlmodel import Column, Field

from services.budget.database import BudgetModel
from shared.db.versioning import Versioned
from shared.jurisdiction import location_index


class AllocationRun(BudgetModel, Versioned, table=True):
    __tablename__ = "allocation_run"
    __table_args__ = (
        location_index("ix_allocation_run_allocating_admin_code", "allocating_admin_code"),
        sa.Index(
            "uq_allocation_run_published",
            "fiscal_year", "line_code", "allocating_admin_code",
            unique=True, postgresql_where=sa.text("status = 'published'"),
        ),
    )  # fmt: skip

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    fiscal_year: int = Field(sa_column=Column(sa.Integer, nullable=False))
    line_code: str = Field(sa_column=Column(sa.Text, nullable=False))
    allocating_tier: str = Field(sa_column=Column(sa.Text, nullable=False))
    allocating_admin_code: str = Field(sa_column=Column(sa.Text, nullable=False))
    unit_level: str = Field(sa_column=Column(sa.Text, nullable=False))
    parent_run_id: uuid.UUID | None = Field(default=None, sa_column=Column(pg.UUID(as_uuid=True)))
    formula_code: str = Field(sa_column=Column(sa.Text, nullable=False))
    formula_version: int = Field(sa_column=Column(sa.Integer, nullable=False))
    definition: dict[str, Any] = Field(sa_column=Column(pg.JSONB, nullable=False))
    envelope_riel: int = Field(sa_column=Column(sa.BigInteger, nullable=False))
    inputs: dict[str, Any] = Field(sa_column=Column(pg.JSONB, nullable=False))
    status: str = Field(sa_column=Column(sa.Text, nullable=False))
    compute_ms: float = Field(sa_column=Column(sa.Float, nullable=False))
    created_by: str = Field(sa_column=Column(sa.Text, nullable=False))
    created_at: datetime = Field(sa_column=Column(sa.DateTime(timezone=True), nullable=False))
    proposed_by: str | None = Field(default=None, sa_column=Column(sa.Text))
    proposed_at: datetime | None = Field(default=None, sa_column=Column(sa.DateTime(timezone=True)))
    approved_by: str | None = Field(default=None, sa_column=Column(sa.Text))
    approved_at: datetime | None = Field(default=None, sa_column=Column(sa.DateTime(timezone=True)))
    published_by: str | None = Field(default=None, sa_column=Column(sa.Text))
    published_at: datetime | None = Field(
        default=None, sa_column=Column(sa.DateTime(timezone=True))
    )


class AllocationUnit(BudgetModel, table=True):
    __tablename__ = "allocation_unit"
    __table_args__ = (location_index("ix_allocation_unit_admin_code", "admin_code"),)

    run_id: uuid.UUID = Field(
        sa_column=Column(
            pg.UUID(as_uuid=True), sa.ForeignKey("allocation_run.id", ondelete="CASCADE"),
            primary_key=True,
        )
    )  # fmt: skip
    admin_code: str = Field(sa_column=Column(sa.Text, primary_key=True))
    amount_riel: int = Field(sa_column=Column(sa.BigInteger, nullable=False))
    exact: str = Field(sa_column=Column(sa.Text, nullable=False))  # "numerator/denominator"
    contributions: list[str] = Field(sa_column=Column(pg.JSONB, nullable=False))
    adjustment: str = Field(sa_column=Column(sa.Text, nullable=False))
