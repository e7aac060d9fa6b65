"""One row per budget fact, keyed by the budget service's own ids, so an event delivered or
published twice is counted once."""

from __future__ import annotations

import uuid
from datetime import date

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlmodel import Column, Field

from services.isaf.database import IsafModel


class AllocatedAmount(IsafModel, table=True):
    __tablename__ = "budget_allocation"

    run_id: uuid.UUID = Field(sa_column=Column(pg.UUID(as_uuid=True), primary_key=True))
    admin_code: str = Field(sa_column=Column(sa.Text, primary_key=True))
    fiscal_year: int = Field(sa_column=Column(sa.SmallInteger, nullable=False))
    line_code: str = Field(sa_column=Column(sa.Text, nullable=False))
    amount_riel: int = Field(sa_column=Column(sa.BigInteger, nullable=False))


class ReleasedAmount(IsafModel, table=True):
    __tablename__ = "budget_release"

    release_id: uuid.UUID = Field(sa_column=Column(pg.UUID(as_uuid=True), primary_key=True))
    admin_code: str = Field(sa_column=Column(sa.Text, nullable=False))
    fiscal_year: int = Field(sa_column=Column(sa.SmallInteger, nullable=False))
    line_code: str = Field(sa_column=Column(sa.Text, nullable=False))
    amount_riel: int = Field(sa_column=Column(sa.BigInteger, nullable=False))
    released_on: date = Field(sa_column=Column(sa.Date, nullable=False))


class SpentAmount(IsafModel, table=True):
    __tablename__ = "budget_expenditure"

    expenditure_id: uuid.UUID = Field(sa_column=Column(pg.UUID(as_uuid=True), primary_key=True))
    admin_code: str = Field(sa_column=Column(sa.Text, nullable=False))
    fiscal_year: int = Field(sa_column=Column(sa.SmallInteger, nullable=False))
    line_code: str = Field(sa_column=Column(sa.Text, nullable=False))
    amount_riel: int = Field(sa_column=Column(sa.BigInteger, nullable=False))
    spent_on: date = Field(sa_column=Column(sa.Date, nullable=False))
