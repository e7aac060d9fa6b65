"""What the enrolment and eligibility API reads and writes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from services.registry.programmes.schemas import ProgrammeCode

EnrolmentStatusName = Literal["proposed", "enrolled", "suspended", "exited", "rejected"]


class EnrolmentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    household_id: UUID
    programme_code: ProgrammeCode
    member_id: UUID | None = Field(
        None, description="The member, for a programme that targets individuals."
    )


class EnrolmentReason(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=3, max_length=500, description="Why, for the record.")


class RuleOutcome(BaseModel):
    """One rule's result; combinators hold their rules' results."""

    rule: str = Field(description="The rule's kind, e.g. poverty_level, has_member, all.")
    id: str | None = Field(None, description="The rule's name in the programme, if it has one.")
    passed: bool
    code: str = Field(
        description="Stable reason code to translate (e.g. poverty_level.not_listed, "
        "has_member.too_few, age.above_max)."
    )
    reason: str = Field(description="The reason in English.")
    params: dict[str, Any] = Field(default_factory=dict)
    rules: list[RuleOutcome] = Field(default_factory=list)
    member_ids: list[UUID] = Field(default_factory=list)


class MemberEligibilityPublic(BaseModel):
    member_id: UUID
    eligible: bool
    failing: list[RuleOutcome]


class ProgrammeEligibilityPublic(BaseModel):
    programme_code: str
    programme_name: str
    target: Literal["household", "individual"]
    eligible: bool
    outcome: RuleOutcome = Field(
        description="The rule tree's result (for an individual programme: the first qualifying "
        "member's, or the first member's when nobody qualifies)."
    )
    failing: list[RuleOutcome] = Field(description="The rules that made it fail.")
    qualifying_member_ids: list[UUID] = Field(default_factory=list)
    members: list[MemberEligibilityPublic] = Field(
        default_factory=list, description="Individual programmes: each active member's verdict."
    )


class HouseholdEligibilityPublic(BaseModel):
    household_id: UUID
    household_code: str
    household_status: str
    enrollable: bool = Field(description="Whether the household's status allows enrolment.")
    evaluated_on: date
    programmes: list[ProgrammeEligibilityPublic]


class EnrolmentPublic(BaseModel):
    id: UUID
    programme_code: str
    programme_name: str
    household_id: UUID
    household_code: str
    member_id: UUID | None
    village_code: str
    status: EnrolmentStatusName
    status_reason: str | None
    failing_rules: list[str]
    proposed_by: str
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    enrolled_on: date | None
    exited_on: date | None
    version: int


class EnrolmentDetail(EnrolmentPublic):
    eligibility: dict[str, Any] = Field(
        description="The eligibility snapshot: the rules, the household's and members' facts "
        "and each rule's result on the date it was evaluated (at proposal, again at approval)."
    )
