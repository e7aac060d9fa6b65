"""A scorecard and its sitting: participants (profiles, no names), indicators, votes.

Participants and indicators keep the ids the tablet generated; they are unique within their
scorecard, and a vote's key (scorecard, indicator, participant) is what makes it one vote per
participant per indicator.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlmodel import Column, Field

from services.isaf.database import IsafModel
from shared.db.versioning import Versioned


class Scorecard(IsafModel, Versioned, table=True):
    __tablename__ = "scorecard"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    cycle_id: uuid.UUID = Field(
        sa_column=Column(pg.UUID(as_uuid=True), sa.ForeignKey("cycle.id"), nullable=False)
    )
    facility_id: uuid.UUID = Field(
        sa_column=Column(pg.UUID(as_uuid=True), sa.ForeignKey("facility.id"), nullable=False)
    )
    facility_type: str = Field(sa_column=Column(sa.Text, nullable=False))
    location_code: str = Field(sa_column=Column(sa.Text, nullable=False))
    year: int = Field(sa_column=Column(sa.SmallInteger, nullable=False))
    kind: str = Field(sa_column=Column(sa.Text, nullable=False))
    status: str = Field(sa_column=Column(sa.Text, nullable=False))
    catalogue_version: int = Field(sa_column=Column(sa.SmallInteger, nullable=False))
    held_on: date | None = Field(default=None, sa_column=Column(sa.Date))
    venue: str | None = Field(default=None, sa_column=Column(sa.Text))
    facilitator_caf_ids: list[uuid.UUID] = Field(
        default_factory=list,
        sa_column=Column(pg.ARRAY(pg.UUID(as_uuid=True)), nullable=False, server_default="{}"),
    )
    participants_total: int = Field(default=0, sa_column=Column(sa.Integer, nullable=False))
    participants_female: int = Field(default=0, sa_column=Column(sa.Integer, nullable=False))
    # sha256 of the last sitting document stored: the same upload again changes nothing.
    sitting_digest: str | None = Field(default=None, sa_column=Column(sa.Text))
    sitting_uploaded_at: datetime | None = Field(
        default=None, sa_column=Column(sa.DateTime(timezone=True))
    )
    completed_at: datetime | None = Field(
        default=None, sa_column=Column(sa.DateTime(timezone=True))
    )
    created_by: str = Field(sa_column=Column(sa.Text, nullable=False))
    created_at: datetime = Field(sa_column=Column(sa.DateTime(timezone=True), nullable=False))
    updated_at: datetime = Field(sa_column=Column(sa.DateTime(timezone=True), nullable=False))


class Participant(IsafModel, table=True):
    __tablename__ = "scorecard_participant"

    scorecard_id: uuid.UUID = Field(
        sa_column=Column(
            pg.UUID(as_uuid=True),
            sa.ForeignKey("scorecard.id", ondelete="CASCADE"),
            primary_key=True,
        )
    )
    id: uuid.UUID = Field(sa_column=Column(pg.UUID(as_uuid=True), primary_key=True))
    sex: str = Field(sa_column=Column(sa.Text, nullable=False))
    age_band: str | None = Field(default=None, sa_column=Column(sa.Text))
    disability: bool = Field(sa_column=Column(sa.Boolean, nullable=False))
    ethnic_minority: bool = Field(sa_column=Column(sa.Boolean, nullable=False))
    youth: bool = Field(sa_column=Column(sa.Boolean, nullable=False))
    idpoor: bool = Field(sa_column=Column(sa.Boolean, nullable=False))


class ScorecardIndicator(IsafModel, table=True):
    __tablename__ = "scorecard_indicator"

    scorecard_id: uuid.UUID = Field(
        sa_column=Column(
            pg.UUID(as_uuid=True),
            sa.ForeignKey("scorecard.id", ondelete="CASCADE"),
            primary_key=True,
        )
    )
    id: uuid.UUID = Field(sa_column=Column(pg.UUID(as_uuid=True), primary_key=True))
    position: int = Field(sa_column=Column(sa.SmallInteger, nullable=False))
    source: str = Field(sa_column=Column(sa.Text, nullable=False))
    code: str | None = Field(default=None, sa_column=Column(sa.Text))
    name_km: str = Field(sa_column=Column(sa.Text, nullable=False))
    name_en: str = Field(sa_column=Column(sa.Text, nullable=False))
    selected: bool = Field(sa_column=Column(sa.Boolean, nullable=False))
    votes: int = Field(default=0, sa_column=Column(sa.Integer, nullable=False))
    median: Decimal | None = Field(default=None, sa_column=Column(sa.Numeric(2, 1)))
    strengths: str | None = Field(default=None, sa_column=Column(sa.Text))
    weaknesses: str | None = Field(default=None, sa_column=Column(sa.Text))
    suggested_actions: str | None = Field(default=None, sa_column=Column(sa.Text))


class Vote(IsafModel, table=True):
    __tablename__ = "scorecard_vote"
    __table_args__ = (
        sa.ForeignKeyConstraint(
            ["scorecard_id", "indicator_id"],
            ["scorecard_indicator.scorecard_id", "scorecard_indicator.id"],
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["scorecard_id", "participant_id"],
            ["scorecard_participant.scorecard_id", "scorecard_participant.id"],
            ondelete="CASCADE",
        ),
        sa.CheckConstraint("score BETWEEN 1 AND 5", name="score_scale"),
    )

    scorecard_id: uuid.UUID = Field(sa_column=Column(pg.UUID(as_uuid=True), primary_key=True))
    indicator_id: uuid.UUID = Field(sa_column=Column(pg.UUID(as_uuid=True), primary_key=True))
    participant_id: uuid.UUID = Field(sa_column=Column(pg.UUID(as_uuid=True), primary_key=True))
    score: int = Field(sa_column=Column(sa.SmallInteger, nullable=False))
