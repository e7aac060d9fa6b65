"""The registry read model (households and members, from events only) and official
datasets (immutable once an allocation run has used them)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlmodel import Column, Field

from services.budget.database import BudgetModel
from shared.jurisdiction import location_index


class HouseholdFigure(BudgetModel, table=True):
    """One registry household: where it lives, its state and its IDPoor level."""

    __tablename__ = "household_figure"
    __table_args__ = (location_index("ix_household_figure_village_code", "village_code"),)

    household_id: uuid.UUID = Field(sa_column=Column(pg.UUID(as_uuid=True), primary_key=True))
    village_code: str = Field(sa_column=Column(sa.Text, nullable=False))
    status: str = Field(sa_column=Column(sa.Text, nullable=False))
    record_version: int = Field(sa_column=Column(sa.Integer, nullable=False))
    poverty_level: str = Field(sa_column=Column(sa.Text, nullable=False))
    poverty_version: int = Field(sa_column=Column(sa.Integer, nullable=False))
    updated_at: datetime = Field(sa_column=Column(sa.DateTime(timezone=True), nullable=False))


class MemberFigure(BudgetModel, table=True):
    """One registry member: their household, birth year (for the age categories) and state."""

    __tablename__ = "member_figure"

    member_id: uuid.UUID = Field(sa_column=Column(pg.UUID(as_uuid=True), primary_key=True))
    household_id: uuid.UUID = Field(
        sa_column=Column(pg.UUID(as_uuid=True), nullable=False, index=True)
    )
    birth_year: int | None = Field(default=None, sa_column=Column(sa.Integer))
    status: str = Field(sa_column=Column(sa.Text, nullable=False))
    record_version: int = Field(sa_column=Column(sa.Integer, nullable=False))
    updated_at: datetime = Field(sa_column=Column(sa.DateTime(timezone=True), nullable=False))


class Dataset(BudgetModel, table=True):
    """An official dataset (e.g. census population per commune), one value per unit."""

    __tablename__ = "dataset"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    code: str = Field(sa_column=Column(sa.Text, nullable=False, index=True))
    name: str = Field(sa_column=Column(sa.Text, nullable=False))
    source: str = Field(sa_column=Column(sa.Text, nullable=False))
    reference_date: date = Field(sa_column=Column(sa.Date, nullable=False))
    level: str = Field(sa_column=Column(sa.Text, nullable=False))
    area: str = Field(sa_column=Column(sa.Text, nullable=False))  # '' = the whole country
    row_count: int = Field(sa_column=Column(sa.Integer, nullable=False))
    uploaded_by: str = Field(sa_column=Column(sa.Text, nullable=False))
    uploaded_at: datetime = Field(sa_column=Column(sa.DateTime(timezone=True), nullable=False))
    used_at: datetime | None = Field(default=None, sa_column=Column(sa.DateTime(timezone=True)))


class DatasetValue(BudgetModel, table=True):
    __tablename__ = "dataset_value"

    dataset_id: uuid.UUID = Field(
        sa_column=Column(
            pg.UUID(as_uuid=True), sa.ForeignKey("dataset.id", ondelete="CASCADE"),
            primary_key=True,
        )
    )  # fmt: skip
    admin_code: str = Field(sa_column=Column(sa.Text, primary_key=True))
    value: int = Field(sa_column=Column(sa.BigInteger, nullable=False))
