"""Spending recorded by a receiving unit, located at that unit."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Column, Field

from services.budget.database import BudgetModel
from shared.jurisdiction import location_index


class Expenditure(BudgetModel, table=True):
    __tablename__ = "expenditure"
    __table_args__ = (location_index("ix_expenditure_admin_code", "admin_code"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    fiscal_year: int = Field(sa_column=Column(sa.Integer, nullable=False))
    line_code: str = Field(sa_column=Column(sa.Text, nullable=False))
    admin_code: str = Field(sa_column=Column(sa.Text, nullable=False))
    amount_riel: int = Field(sa_column=Column(sa.BigInteger, nullable=False))
    spent_on: date = Field(sa_column=Column(sa.Date, nullable=False))
    description: str = Field(sa_column=Column(sa.Text, nullable=False))
    recorded_by: str = Field(sa_column=Column(sa.Text, nullable=False))
    recorded_at: datetime = Field(sa_column=Column(sa.DateTime(timezone=True), nullable=False))
