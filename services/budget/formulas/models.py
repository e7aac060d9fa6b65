"""Stored formula versions (the shipped ones live in `formulas.shipped`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlmodel import Column, Field

from services.budget.database import BudgetModel


class Formula(BudgetModel, table=True):
    __tablename__ = "formula"

    code: str = Field(sa_column=Column(sa.Text, primary_key=True))
    version: int = Field(sa_column=Column(sa.Integer, primary_key=True, autoincrement=False))
    name: str = Field(sa_column=Column(sa.Text, nullable=False))
    description: str = Field(sa_column=Column(sa.Text, nullable=False))
    definition: dict[str, Any] = Field(sa_column=Column(pg.JSONB, nullable=False))
    created_by: str = Field(sa_column=Column(sa.Text, nullable=False))
    created_at: datetime = Field(sa_column=Column(sa.DateTime(timezone=True), nullable=False))
