"""Cases: follow-up work on a household or one of its members (referral, follow-up,
reassessment, protection), assigned to an administrative unit and optionally to a person,
with a due date and a timeline of notes.

A case carries a copy of its household's village code, so the jurisdiction filter sees it
exactly where it sees the household. The assigned unit is the commune, district or province
(or national, code "") that must act on it: always one that contains the household.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field

from services.registry.database import RegistryModel
from shared import clock
from shared.db.versioning import Versioned


class CaseType(enum.StrEnum):
    REFERRAL = "referral"
    FOLLOW_UP = "follow_up"
    REASSESSMENT = "reassessment"
    PROTECTION = "protection"


class CaseStatus(enum.StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"


class Case(RegistryModel, Versioned, table=True):
    __tablename__ = "case_file"
    __table_args__ = (
        sa.CheckConstraint(
            "case_type IN ('referral', 'follow_up', 'reassessment', 'protection')",
            name="case_type",
        ),
        sa.CheckConstraint("status IN ('open', 'in_progress', 'closed')", name="status"),
        # One case per origin and type: a redelivered grievance event cannot open two.
        sa.Index(
            "uq_case_file_origin",
            "case_type",
            "origin",
            unique=True,
            postgresql_where=sa.text("origin IS NOT NULL"),
        ),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    case_type: str
    household_id: uuid.UUID = Field(foreign_key="household.id", index=True)
    member_id: uuid.UUID | None = Field(default=None, foreign_key="member.id")
    village_code: str = Field(max_length=8)
    assigned_admin_code: str = Field(max_length=6)
    assigned_tier: str
    assignee_sub: str | None = None
    assignee_name: str | None = None
    due_on: date
    status: str = Field(default=CaseStatus.OPEN)
    outcome: str | None = None
    origin: str | None = Field(default=None, max_length=200)
    description: str = Field(default="", max_length=2000)

    opened_at: datetime = Field(default_factory=clock.now, sa_type=sa.DateTime(timezone=True))
    opened_by: str = ""
    started_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    closed_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    closed_by: str | None = None
    updated_at: datetime = Field(default_factory=clock.now, sa_type=sa.DateTime(timezone=True))
    updated_by: str = ""


class CaseNote(RegistryModel, table=True):
    """One entry of a case's timeline (append-only)."""

    __tablename__ = "case_note"

    id: int | None = Field(default=None, primary_key=True, sa_type=sa.BigInteger)
    case_id: uuid.UUID = Field(foreign_key="case_file.id", index=True)
    text: str = Field(max_length=4000)
    author_sub: str
    author_name: str = ""
    author_admin_code: str = ""
    at: datetime = Field(default_factory=clock.now, sa_type=sa.DateTime(timezone=True))
