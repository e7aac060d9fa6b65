"""Enrolments: a household (or one of its members) in a programme, and its life cycle.

proposed -> enrolled -> suspended -> enrolled ... -> exited; or rejected when the proposal
failed the programme's rules (kept, with the failing rules and the eligibility snapshot, so
the decision can be explained later). At most one live (proposed, enrolled or suspended)
enrolment exists per programme and household-or-member: a unique partial index says so.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlmodel import Column, Field

from services.registry.database import RegistryModel
from shared import clock
from shared.db.versioning import Versioned


class EnrolmentStatus(enum.StrEnum):
    PROPOSED = "proposed"
    ENROLLED = "enrolled"
    SUSPENDED = "suspended"
    EXITED = "exited"
    REJECTED = "rejected"


LIVE_STATUSES = (EnrolmentStatus.PROPOSED, EnrolmentStatus.ENROLLED, EnrolmentStatus.SUSPENDED)


class Enrolment(RegistryModel, Versioned, table=True):
    __tablename__ = "enrolment"
    __table_args__ = (
        sa.CheckConstraint(
            "status IN ('proposed', 'enrolled', 'suspended', 'exited', 'rejected')", name="status"
        ),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    programme_code: str = Field(foreign_key="programme.code", max_length=40)
    household_id: uuid.UUID = Field(foreign_key="household.id")
    member_id: uuid.UUID | None = Field(default=None, foreign_key="member.id")
    status: str = Field(default=EnrolmentStatus.PROPOSED)
    status_reason: str | None = Field(default=None, max_length=500)
    # What the rules said when it was proposed (and again when approved): JSON as built by
    # the service from the eligibility engine's outcome.
    eligibility: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(pg.JSONB, nullable=False, default=dict)
    )
    failing_rules: list[str] = Field(
        default_factory=list, sa_column=Column(pg.ARRAY(sa.Text), nullable=False, default=list)
    )
    proposed_by: str = ""
    decided_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    decided_by: str | None = None
    enrolled_on: date | None = None
    exited_on: date | None = None

    created_at: datetime = Field(default_factory=clock.now, sa_type=sa.DateTime(timezone=True))
    created_by: str = ""
    updated_at: datetime = Field(default_factory=clock.now, sa_type=sa.DateTime(timezone=True))
    updated_by: str = ""
