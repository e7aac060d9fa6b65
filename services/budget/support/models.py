"""Support requests, located at the requesting unit (so the addressed parent covers them)."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlmodel import Column, Field

from services.budget.database import BudgetModel
from shared.db.versioning import Versioned
from shared.jurisdiction import location_index


class SupportRequest(BudgetModel, Versioned, table=True):
    __tablename__ = "support_request"
    __table_args__ = (
        location_index("ix_support_request_requesting_admin_code", "requesting_admin_code"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    fiscal_year: int = Field(sa_column=Column(sa.Integer, nullable=False))
    requesting_tier: str = Field(sa_column=Column(sa.Text, nullable=False))
    requesting_admin_code: str = Field(sa_column=Column(sa.Text, nullable=False))
    addressed_tier: str = Field(sa_column=Column(sa.Text, nullable=False))
    addressed_admin_code: str = Field(sa_column=Column(sa.Text, nullable=False))
    request_type: str = Field(sa_column=Column(sa.Text, nullable=False))
    description: str = Field(sa_column=Column(sa.Text, nullable=False))
    amount_riel: int = Field(sa_column=Column(sa.BigInteger, nullable=False))
    approved_amount_riel: int | None = Field(default=None, sa_column=Column(sa.BigInteger))
    status: str = Field(sa_column=Column(sa.Text, nullable=False))
    reason: str = Field(default="", sa_column=Column(sa.Text, nullable=False, server_default=""))
    isaf_action_id: uuid.UUID | None = Field(
        default=None, sa_column=Column(pg.UUID(as_uuid=True), unique=True)
    )
    submitted_by: str = Field(sa_column=Column(sa.Text, nullable=False))
    submitted_at: datetime = Field(sa_column=Column(sa.DateTime(timezone=True), nullable=False))
    reviewed_at: datetime | None = Field(default=None, sa_column=Column(sa.DateTime(timezone=True)))
    decided_by: str | None = Field(default=None, sa_column=Column(sa.Text))
    decided_at: datetime | None = Field(default=None, sa_column=Column(sa.DateTime(timezone=True)))
    fulfilled_at: datetime | None = Field(
        default=None, sa_column=Column(sa.DateTime(timezone=True))
    )
