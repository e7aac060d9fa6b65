"""What citizens send and what they get back: codes, states and public texts only."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from services.grievance.codes import Channel
from services.grievance.grievances.schemas import (
    ANONYMITY_RULE,
    COMMUNE_OR_VILLAGE_SCHEMA,
    IntakeBase,
    commune_or_village,
)
from shared.gazetteer import LocationCode

HouseholdCode = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9-]{4,40}$")
]


class PublicSubmission(IntakeBase):
    """A citizen's own submission. `anonymous: true` needs no name at all."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            **ANONYMITY_RULE,
            "examples": [
                {
                    "category": "payment_problem",
                    "description": "My family's April payment has not arrived.",
                    "location_code": "12080102",
                    "anonymous": False,
                    "complainant": {"name": "Sok Dara", "phone": "012345678"},
                }
            ],
        },
    )

    channel: Literal[Channel.WEB, Channel.MOBILE_APP] = Channel.WEB
    location_code: LocationCode = Field(
        description="The commune (6 digits) or village (8 digits) the grievance is about.",
        examples=["120801", "12080102"],
        json_schema_extra=COMMUNE_OR_VILLAGE_SCHEMA,
    )
    household_code: HouseholdCode | None = Field(
        None,
        description="The household code printed on the IDPoor card, if the grievance is about "
        "the household. When the registry knows it and the household lies in the commune "
        "given in `location_code`, the grievance is linked to it (and placed at its village). "
        "Otherwise it is handled where `location_code` says and staff link it later: what a "
        "citizen is shown never depends on whether a code exists or where it lives.",
    )

    @field_validator("location_code")
    @classmethod
    def _commune_or_village(cls, value: str) -> str:
        return commune_or_village(value)


class SubmissionReceipt(BaseModel):
    tracking_code: str = Field(description="Keep it: it is the only way to follow the grievance.")
    status: str
    submitted_at: datetime
    handled_by_tier: str


class PublicTimelineEntry(BaseModel):
    kind: str
    occurred_at: datetime
    text: str | None = None
    to_tier: str | None = None


class PublicGrievance(BaseModel):
    tracking_code: str
    category: str
    category_label: str
    status: str
    status_label: str
    handled_by_tier: str
    handled_by_tier_label: str
    handled_by: str | None = Field(description="Name of the handling administration.")
    submitted_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    decision: str | None
    decision_label: str | None
    resolution_summary: str | None
    rejection_reason: str | None
    reopen_until: datetime | None
    rating: int | None
    timeline: list[PublicTimelineEntry]


class Reopen(BaseModel):
    model_config = {"extra": "forbid"}
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class Rating(BaseModel):
    model_config = {"extra": "forbid"}
    rating: int = Field(
        ge=1, le=5, description="1 very bad, 2 bad, 3 acceptable, 4 good, 5 very good"
    )
