"""Fiscal years and national envelopes."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Column, Field

from services.budget.database import BudgetModel
from shared.db.versioning import Versioned


class FiscalYear(BudgetModel, table=True):
    __tablename__ = "fiscal_year"

    year: int = Field(sa_column=Column(sa.Integer, primary_key=True, autoincrement=False))
    starts_on: date = Field(sa_column=Column(sa.Date, nullable=False))
    ends_on: date = Field(sa_column=Column(sa.Date, nullable=False))
    opened_by: str = Field(sa_column=Column(sa.Text, nullable=False))
    opened_at: datetime = Field(sa_column=Column(sa.DateTime(timezone=True), nullable=False))


class Envelope(BudgetModel, Versioned, table=True):
    """The national amount of one budget line in one fiscal year, in whole riel."""

    __tablename__ = "envelope"
    __table_args__ = (sa.UniqueConstraint("fiscal_year", "line_code"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    fiscal_year: int = Field(sa_column=Column(sa.Integer, nullable=False))
    line_code: str = Field(sa_column=Column(sa.Text, nullable=False))
    amount_riel: int = Field(sa_column=Column(sa.BigInteger, nullable=False))
    set_by: str = Field(sa_column=Column(sa.Text, nullable=False))
    set_at: datetime = Field(sa_column=Column(sa.DateTime(timezone=True), nullable=False))
