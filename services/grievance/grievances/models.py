"""Grievances and their timelines.

A grievance sits at a location (commune or village code, the column every jurisdiction check
uses) and is handled by one unit at a time (`handling_tier`, `handling_admin_code`). The SLA
scheduler reads only `due_at` and `due_kind`: the next deadline of an open grievance at its
current tier, NULL when nothing is due (answered, or breached at the national tier).

The complainant's identity lives in the `complainant_*` columns of the same row; schemas
decide who sees them (the handling unit's handlers only), the public never does.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlmodel import Column, Field

from services.grievance.database import GrievanceModel
from shared.db.versioning import Versioned
from shared.personal_data import PersonalDataAccessColumns


class Grievance(GrievanceModel, Versioned, table=True):
    __tablename__ = "grievance"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    tracking_code: str = Field(sa_column=Column(sa.Text, nullable=False, unique=True))
    channel: str = Field(sa_column=Column(sa.Text, nullable=False))
    category: str = Field(sa_column=Column(sa.Text, nullable=False))
    sensitive: bool = Field(sa_column=Column(sa.Boolean, nullable=False))
    programme_code: str | None = Field(default=None, sa_column=Column(sa.Text))
    location_code: str = Field(sa_column=Column(sa.Text, nullable=False))
    description: str = Field(sa_column=Column(sa.Text, nullable=False))
    household_id: uuid.UUID | None = Field(default=None, sa_column=Column(pg.UUID(as_uuid=True)))
    member_id: uuid.UUID | None = Field(default=None, sa_column=Column(pg.UUID(as_uuid=True)))
    # A household code a citizen gave that the registry had not announced yet: the grievance
    # is linked when the household's event arrives (never shown to the public).
    claimed_household_code: str | None = Field(default=None, sa_column=Column(sa.Text))

    anonymous: bool = Field(sa_column=Column(sa.Boolean, nullable=False))
    complainant_name: str | None = Field(default=None, sa_column=Column(sa.Text))
    complainant_phone: str | None = Field(default=None, sa_column=Column(sa.Text))
    complainant_sex: str | None = Field(default=None, sa_column=Column(sa.Text))
    complainant_age_group: str | None = Field(default=None, sa_column=Column(sa.Text))
    complainant_vulnerabilities: list[str] = Field(
        default_factory=list,
        sa_column=Column(pg.ARRAY(sa.Text), nullable=False, server_default="{}"),
    )

    status: str = Field(sa_column=Column(sa.Text, nullable=False))
    decision: str | None = Field(default=None, sa_column=Column(sa.Text))
    resolution_summary: str | None = Field(default=None, sa_column=Column(sa.Text))
    rejection_reason: str | None = Field(default=None, sa_column=Column(sa.Text))

    handling_tier: str = Field(sa_column=Column(sa.Text, nullable=False))
    handling_admin_code: str = Field(sa_column=Column(sa.Text, nullable=False))
    tier_entered_at: datetime = Field(sa_column=Column(sa.DateTime(timezone=True), nullable=False))
    due_kind: str | None = Field(default=None, sa_column=Column(sa.Text))
    due_at: datetime | None = Field(default=None, sa_column=Column(sa.DateTime(timezone=True)))
    escalation_count: int = Field(default=0, sa_column=Column(sa.Integer, nullable=False))
    sla_breach_count: int = Field(default=0, sa_column=Column(sa.Integer, nullable=False))
    reopen_count: int = Field(default=0, sa_column=Column(sa.Integer, nullable=False))
    reopen_until: datetime | None = Field(
        default=None, sa_column=Column(sa.DateTime(timezone=True))
    )
    rating: int | None = Field(default=None, sa_column=Column(sa.SmallInteger))

    submitted_by: str | None = Field(default=None, sa_column=Column(sa.Text))
    submitted_at: datetime = Field(sa_column=Column(sa.DateTime(timezone=True), nullable=False))
    acknowledged_at: datetime | None = Field(
        default=None, sa_column=Column(sa.DateTime(timezone=True))
    )
    resolved_at: datetime | None = Field(default=None, sa_column=Column(sa.DateTime(timezone=True)))
    closed_at: datetime | None = Field(default=None, sa_column=Column(sa.DateTime(timezone=True)))
    rejected_at: datetime | None = Field(default=None, sa_column=Column(sa.DateTime(timezone=True)))
    rated_at: datetime | None = Field(default=None, sa_column=Column(sa.DateTime(timezone=True)))
    updated_at: datetime = Field(sa_column=Column(sa.DateTime(timezone=True), nullable=False))


class TimelineEntry(GrievanceModel, table=True):
    """A status change, an escalation, a public response or an internal note."""

    __tablename__ = "grievance_timeline"

    seq: int | None = Field(
        default=None, sa_column=Column(sa.BigInteger, sa.Identity(always=True), primary_key=True)
    )
    grievance_id: uuid.UUID = Field(
        sa_column=Column(
            pg.UUID(as_uuid=True),
            sa.ForeignKey("grievance.id", ondelete="CASCADE"),
            nullable=False,
        )
    )
    occurred_at: datetime = Field(sa_column=Column(sa.DateTime(timezone=True), nullable=False))
    kind: str = Field(sa_column=Column(sa.Text, nullable=False))
    public: bool = Field(sa_column=Column(sa.Boolean, nullable=False))
    text: str | None = Field(default=None, sa_column=Column(sa.Text))
    actor: str = Field(sa_column=Column(sa.Text, nullable=False))
    details: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(pg.JSONB, nullable=False, server_default="{}")
    )


class PublicLookupFailure(GrievanceModel, table=True):
    """Failed tracking-code lookups per client and hour, to stop enumeration."""

    __tablename__ = "public_lookup_failure"

    client_key: str = Field(sa_column=Column(sa.Text, primary_key=True))
    window_start: datetime = Field(sa_column=Column(sa.DateTime(timezone=True), primary_key=True))
    failures: int = Field(sa_column=Column(sa.Integer, nullable=False))


class PersonalDataAccess(PersonalDataAccessColumns, GrievanceModel, table=True):
    """A person saw a complainant's identity (architecture: audit-logged reads of personal
    records): entity `grievance`, written in the request's transaction whenever a response
    carries it."""

    __tablename__ = "personal_data_access"
