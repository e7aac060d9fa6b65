"""CAFs, trainings and who attended them; the log of reads of a CAF's phone number."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlmodel import Column, Field

from services.isaf.database import IsafModel
from shared.db.versioning import Versioned
from shared.personal_data import PersonalDataAccessColumns


class Caf(IsafModel, Versioned, table=True):
    __tablename__ = "caf"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    location_code: str = Field(sa_column=Column(sa.Text, nullable=False))  # the commune
    name: str = Field(sa_column=Column(sa.Text, nullable=False))
    sex: str = Field(sa_column=Column(sa.Text, nullable=False))
    birth_year: int | None = Field(default=None, sa_column=Column(sa.SmallInteger))
    phone: str | None = Field(default=None, sa_column=Column(sa.Text))
    local_ngo: str | None = Field(default=None, sa_column=Column(sa.Text))
    active: bool = Field(sa_column=Column(sa.Boolean, nullable=False))
    created_at: datetime = Field(sa_column=Column(sa.DateTime(timezone=True), nullable=False))
    updated_at: datetime = Field(sa_column=Column(sa.DateTime(timezone=True), nullable=False))


class Training(IsafModel, table=True):
    __tablename__ = "training"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    # The area that organised it: a commune, a district/khan or a province.
    location_code: str = Field(sa_column=Column(sa.Text, nullable=False))
    audience: str = Field(sa_column=Column(sa.Text, nullable=False))
    topics: list[str] = Field(sa_column=Column(pg.ARRAY(sa.Text), nullable=False))
    starts_on: date = Field(sa_column=Column(sa.Date, nullable=False))
    ends_on: date = Field(sa_column=Column(sa.Date, nullable=False))
    venue: str = Field(sa_column=Column(sa.Text, nullable=False))
    attendees_total: int = Field(sa_column=Column(sa.Integer, nullable=False))
    attendees_female: int = Field(sa_column=Column(sa.Integer, nullable=False))
    attendees_male: int = Field(sa_column=Column(sa.Integer, nullable=False))
    recorded_by: str = Field(sa_column=Column(sa.Text, nullable=False))
    recorded_at: datetime = Field(sa_column=Column(sa.DateTime(timezone=True), nullable=False))


class TrainingAttendance(IsafModel, table=True):
    """A registered CAF attended a training (CAFs trained are counted from these rows)."""

    __tablename__ = "training_attendance"

    training_id: uuid.UUID = Field(
        sa_column=Column(
            pg.UUID(as_uuid=True),
            sa.ForeignKey("training.id", ondelete="CASCADE"),
            primary_key=True,
        )
    )
    caf_id: uuid.UUID = Field(
        sa_column=Column(pg.UUID(as_uuid=True), sa.ForeignKey("caf.id"), primary_key=True)
    )


class PersonalDataAccess(PersonalDataAccessColumns, IsafModel, table=True):
    """A person saw a CAF's unmasked phone number (entity `caf`)."""

    __tablename__ = "personal_data_access"
