"""Change requests: the maker-checker workflow for every change to the registry.

A commune officer (the maker) drafts a change to a household and submits it; the district
(the checker) verifies it, which applies it, or rejects it. The request records the
household's version when it was submitted, and a verification that finds the household
changed since is refused as a version conflict rather than overwriting someone's work.

Moving a household involves two communes: the origin commune submits, the destination
commune accepts, then the district of each commune verifies (one verification when both
communes share a district, or one by a province or national verifier covering both).
"""

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


class ChangeType(enum.StrEnum):
    REGISTER_HOUSEHOLD = "register_household"
    UPDATE_HOUSEHOLD = "update_household"
    ADD_MEMBER = "add_member"
    UPDATE_MEMBER = "update_member"
    REMOVE_MEMBER = "remove_member"
    CHANGE_HEAD = "change_head"
    MOVE_HOUSEHOLD = "move_household"
    CHANGE_POVERTY_STATUS = "change_poverty_status"
    ENROL = "enrol"
    EXIT = "exit"


class ChangeRequestStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPLIED = "applied"  # verified and applied in one step
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class ChangeRequest(RegistryModel, Versioned, table=True):
    __tablename__ = "change_request"
    __table_args__ = (
        sa.CheckConstraint(
            "status IN ('draft', 'submitted', 'applied', 'rejected', 'cancelled')", name="status"
        ),
        sa.CheckConstraint("village_code ~ '^[0-9]{8}$'", name="village_code"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    change_type: str
    # None only for register_household until it is applied.
    household_id: uuid.UUID | None = Field(default=None, index=True)
    # Where the household lives (the origin for a move): the jurisdiction of the request.
    village_code: str = Field(max_length=8)
    # A move's destination: the destination commune sees the request too.
    destination_village_code: str | None = Field(default=None, max_length=8)
    payload: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(pg.JSONB, nullable=False, default=dict)
    )
    justification: str = Field(default="", max_length=2000)
    status: str = Field(default=ChangeRequestStatus.DRAFT)
    # Who must act next (the worklists): submit / accept_move / verify, by which unit.
    awaiting_action: str | None = Field(default="submit")
    awaiting_unit: str | None = Field(default=None, max_length=6)

    # The record versions the maker saw when submitting (conflict detection).
    base_version: int | None = None
    member_id: uuid.UUID | None = None
    member_base_version: int | None = None

    submitted_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    submitted_by: str | None = None
    destination_accepted_at: datetime | None = Field(
        default=None, sa_type=sa.DateTime(timezone=True)
    )
    destination_accepted_by: str | None = None
    # Districts whose verifier has verified (a move may need two).
    verified_districts: list[str] = Field(
        default_factory=list, sa_column=Column(pg.ARRAY(sa.Text), nullable=False, default=list)
    )
    decided_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    decided_by: str | None = None
    reason: str | None = None
    # What applying it produced (e.g. the new household's id and code).
    result: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(pg.JSONB, nullable=False, default=dict)
    )

    created_at: datetime = Field(default_factory=clock.now, sa_type=sa.DateTime(timezone=True))
    created_by: str = ""
    updated_at: datetime = Field(default_factory=clock.now, sa_type=sa.DateTime(timezone=True))
    updated_by: str = ""
