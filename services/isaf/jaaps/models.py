"""A JAAP (one per cycle), its actions and each action's status history."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlmodel import Column, Field

from services.isaf.database import IsafModel
from shared.db.versioning import Versioned


class Jaap(IsafModel, table=True):
    __tablename__ = "jaap"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    cycle_id: uuid.UUID = Field(
        sa_column=Column(
            pg.UUID(as_uuid=True), sa.ForeignKey("cycle.id"), nullable=False, unique=True
        )
    )
    location_code: str = Field(sa_column=Column(sa.Text, nullable=False))
    year: int = Field(sa_column=Column(sa.SmallInteger, nullable=False))
    adopted_on: date = Field(sa_column=Column(sa.Date, nullable=False))
    interface_meeting_id: uuid.UUID | None = Field(
        default=None, sa_column=Column(pg.UUID(as_uuid=True), sa.ForeignKey("activity.id"))
    )
    adopted_by: str = Field(sa_column=Column(sa.Text, nullable=False))
    recorded_at: datetime = Field(sa_column=Column(sa.DateTime(timezone=True), nullable=False))


class JaapAction(IsafModel, Versioned, table=True):
    __tablename__ = "jaap_action"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    # The order actions were adopted or added in.
    seq: int | None = Field(
        default=None, sa_column=Column(sa.BigInteger, sa.Identity(always=True), nullable=False)
    )
    jaap_id: uuid.UUID = Field(
        sa_column=Column(pg.UUID(as_uuid=True), sa.ForeignKey("jaap.id"), nullable=False)
    )
    location_code: str = Field(sa_column=Column(sa.Text, nullable=False))
    year: int = Field(sa_column=Column(sa.SmallInteger, nullable=False))
    description: str = Field(sa_column=Column(sa.Text, nullable=False))
    facility_id: uuid.UUID | None = Field(
        default=None, sa_column=Column(pg.UUID(as_uuid=True), sa.ForeignKey("facility.id"))
    )
    scorecard_id: uuid.UUID | None = Field(default=None, sa_column=Column(pg.UUID(as_uuid=True)))
    indicator_id: uuid.UUID | None = Field(default=None, sa_column=Column(pg.UUID(as_uuid=True)))
    indicator_name_en: str | None = Field(default=None, sa_column=Column(sa.Text))
    indicator_name_km: str | None = Field(default=None, sa_column=Column(sa.Text))
    indicator_median: Decimal | None = Field(default=None, sa_column=Column(sa.Numeric(2, 1)))
    responsible_party: str = Field(sa_column=Column(sa.Text, nullable=False))
    responsible_tier: str = Field(sa_column=Column(sa.Text, nullable=False))
    deadline: date = Field(sa_column=Column(sa.Date, nullable=False))
    budget_need_riel: int = Field(default=0, sa_column=Column(sa.BigInteger, nullable=False))
    status: str = Field(sa_column=Column(sa.Text, nullable=False))
    status_reason: str | None = Field(default=None, sa_column=Column(sa.Text))
    status_changed_at: datetime = Field(
        sa_column=Column(sa.DateTime(timezone=True), nullable=False)
    )
    # The support request raised from the budget need, as the budget service reports it.
    support_status: str | None = Field(default=None, sa_column=Column(sa.Text))
    support_addressed_tier: str | None = Field(default=None, sa_column=Column(sa.Text))
    support_addressed_admin_code: str | None = Field(default=None, sa_column=Column(sa.Text))
    support_request_id: uuid.UUID | None = Field(
        default=None, sa_column=Column(pg.UUID(as_uuid=True))
    )
    support_approved_riel: int | None = Field(default=None, sa_column=Column(sa.BigInteger))
    support_updated_at: datetime | None = Field(
        default=None, sa_column=Column(sa.DateTime(timezone=True))
    )
    created_at: datetime = Field(sa_column=Column(sa.DateTime(timezone=True), nullable=False))


class ActionUpdate(IsafModel, table=True):
    """A status change of an action with its progress note, or the support request's news."""

    __tablename__ = "jaap_action_update"

    seq: int | None = Field(
        default=None, sa_column=Column(sa.BigInteger, sa.Identity(always=True), primary_key=True)
    )
    action_id: uuid.UUID = Field(
        sa_column=Column(
            pg.UUID(as_uuid=True),
            sa.ForeignKey("jaap_action.id", ondelete="CASCADE"),
            nullable=False,
        )
    )
    from_status: str | None = Field(default=None, sa_column=Column(sa.Text))
    to_status: str = Field(sa_column=Column(sa.Text, nullable=False))
    note: str = Field(sa_column=Column(sa.Text, nullable=False))
    actor: str = Field(sa_column=Column(sa.Text, nullable=False))
    at: datetime = Field(sa_column=Column(sa.DateTime(timezone=True), nullable=False))
