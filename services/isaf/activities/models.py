"""An activity of a cycle and who took part, as counts (never names)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlmodel import Column, Field

from services.isaf.database import IsafModel


class Activity(IsafModel, table=True):
    __tablename__ = "activity"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    cycle_id: uuid.UUID = Field(
        sa_column=Column(pg.UUID(as_uuid=True), sa.ForeignKey("cycle.id"), nullable=False)
    )
    location_code: str = Field(sa_column=Column(sa.Text, nullable=False))
    village_code: str | None = Field(default=None, sa_column=Column(sa.Text))
    activity_type: str = Field(sa_column=Column(sa.Text, nullable=False))
    held_on: date = Field(sa_column=Column(sa.Date, nullable=False))
    venue: str = Field(sa_column=Column(sa.Text, nullable=False))
    facilitator_caf_ids: list[uuid.UUID] = Field(
        sa_column=Column(pg.ARRAY(pg.UUID(as_uuid=True)), nullable=False)
    )
    participants_total: int = Field(sa_column=Column(sa.Integer, nullable=False))
    participants_female: int = Field(sa_column=Column(sa.Integer, nullable=False))
    participants_male: int = Field(sa_column=Column(sa.Integer, nullable=False))
    with_disability: int = Field(sa_column=Column(sa.Integer, nullable=False))
    ethnic_minority: int = Field(sa_column=Column(sa.Integer, nullable=False))
    youth: int = Field(sa_column=Column(sa.Integer, nullable=False))
    idpoor: int = Field(sa_column=Column(sa.Integer, nullable=False))
    booklets: int = Field(default=0, sa_column=Column(sa.Integer, nullable=False))
    recorded_by: str = Field(sa_column=Column(sa.Text, nullable=False))
    recorded_at: datetime = Field(sa_column=Column(sa.DateTime(timezone=True), nullable=False))
