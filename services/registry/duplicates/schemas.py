"""Request and response shapes of the duplicate review queue."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from services.registry.duplicates.models import DuplicateReason, DuplicateStatus

WITHHELD = "Null when that household lies outside your area (see `handled_by`)."


class HandledBy(BaseModel):
    tier: str = Field(description="dmk, cp or national: whose verifiers decide the pair.")
    admin_code: str = Field(description="Their administrative code (empty for national).")


class MemberMatch(BaseModel):
    reason: DuplicateReason
    member_id: uuid.UUID | None = Field(
        description="The member of the newer household. " + WITHHELD
    )
    other_member_id: uuid.UUID | None = Field(
        description="The member of the other household. " + WITHHELD
    )
    score: float | None = Field(None, description="Khmer-name trigram similarity (0..1).")


class DuplicateSummary(BaseModel):
    """A suspected pair. A household outside the caller's area is withheld: the caller sees
    that a match exists and who decides it, never whose record it is."""

    id: uuid.UUID
    household_id: uuid.UUID | None = Field(description="The newer household (flagged). " + WITHHELD)
    other_household_id: uuid.UUID | None = Field(description=WITHHELD)
    village_code: str | None = Field(description=WITHHELD)
    other_village_code: str | None = Field(description=WITHHELD)
    household_withheld: bool = False
    other_household_withheld: bool = False
    handled_by: HandledBy
    reasons: list[DuplicateReason]
    khmer_name_score: float | None
    status: DuplicateStatus
    flagged_at: datetime
    reviewer: str | None
    decided_at: datetime | None
    decision_reason: str | None
    surviving_household_id: uuid.UUID | None
    version: int


class MemberSide(BaseModel):
    id: uuid.UUID
    family_name_km: str
    given_name_km: str
    family_name_latin: str
    given_name_latin: str
    sex: str
    birth_date: date
    birth_date_estimated: bool
    relationship: str
    status: str
    national_id: str | None = Field(
        description="Masked (last 3 characters) unless the caller may see it here."
    )
    phone: str | None = Field(description="Masked like national_id.")
    disability_severity: str | None


class HouseholdSide(BaseModel):
    id: uuid.UUID
    code: str
    village_code: str
    address: str
    status: str
    head_member_id: uuid.UUID | None
    poverty_level: str
    created_at: datetime
    members: list[MemberSide]
    sensitive_fields_shown: bool


class DuplicateDetail(DuplicateSummary):
    matches: list[MemberMatch]
    household: HouseholdSide | None = Field(description=WITHHELD)
    other_household: HouseholdSide | None = Field(description=WITHHELD)
    merge_summary: dict[str, Any] | None


class DismissDuplicate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=500, description="Why they are different.")


class IdenticalMember(BaseModel):
    model_config = ConfigDict(extra="forbid")

    member_id: uuid.UUID = Field(description="A member of the household that is dissolved.")
    same_as_member_id: uuid.UUID = Field(description="The same person in the surviving one.")


class ConfirmDuplicate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    surviving_household_id: uuid.UUID = Field(
        description="Which of the two households is kept; the other is dissolved into it."
    )
    identical_members: list[IdenticalMember] | None = Field(
        None,
        description=(
            "Members judged to be the same person (not copied over). Default: the members "
            "the detection matched. Every other active member moves to the surviving household."
        ),
        max_length=100,
    )
    reason: str | None = Field(None, max_length=500)
