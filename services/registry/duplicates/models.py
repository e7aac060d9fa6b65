"""Suspected duplicate households and their review: suspected -> confirmed (merged) or
dismissed. One candidate per pair of households, whichever of the two was flagged first."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlmodel import Column, Field

from services.registry.database import RegistryModel
from shared import clock
from shared.db.versioning import Versioned


class DuplicateStatus(enum.StrEnum):
    SUSPECTED = "suspected"
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"


class DuplicateReason(enum.StrEnum):
    NATIONAL_ID = "national_id"
    PHONE = "phone"
    LATIN_NAME_BIRTH_COMMUNE = "latin_name_birth_commune"
    KHMER_NAME_SIMILARITY = "khmer_name_similarity"


class DuplicateCandidate(RegistryModel, Versioned, table=True):
    __tablename__ = "duplicate_candidate"
    __table_args__ = (
        sa.CheckConstraint(
            "status IN ('suspected', 'confirmed', 'dismissed')", name="duplicate_status"
        ),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    # The newer household (being registered or imported) and the one it resembles.
    household_id: uuid.UUID = Field(foreign_key="household.id")
    other_household_id: uuid.UUID = Field(foreign_key="household.id")
    village_code: str  # of the newer household: where the review belongs
    other_village_code: str
    member_ids: list[uuid.UUID] = Field(
        default_factory=list, sa_column=Column(pg.ARRAY(sa.Uuid), nullable=False, default=list)
    )
    reasons: list[str] = Field(
        default_factory=list, sa_column=Column(pg.ARRAY(sa.Text), nullable=False, default=list)
    )
    # [{reason, member_id, other_member_id, score}]: which members matched and how.
    matches: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(pg.JSONB, nullable=False, default=list)
    )
    khmer_name_score: float | None = None
    status: str = Field(default=DuplicateStatus.SUSPECTED)
    flagged_at: datetime = Field(default_factory=clock.now, sa_type=sa.DateTime(timezone=True))
    flagged_by: str = ""
    reviewer: str | None = None
    decided_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    decision_reason: str | None = None
    surviving_household_id: uuid.UUID | None = None
    merge_summary: dict[str, Any] | None = Field(default=None, sa_column=Column(pg.JSONB))
