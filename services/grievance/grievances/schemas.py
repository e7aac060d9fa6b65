"""Request and response shapes of the staff API.

Requests forbid unknown fields, so a typo is a 422 naming the field, not silently dropped
data. The complainant block of a response is filled only for the handling unit's handlers.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from services.grievance.codes import (
    AgeGroup,
    Category,
    Channel,
    Decision,
    Sex,
    Vulnerability,
)
from shared.gazetteer import LocationCode

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
ProgrammeCode = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9_-]{1,31}$")]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9 ]{6,20}$")]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


# What `commune_or_village` takes, stated in the schema (the gazetteer format says it exists).
COMMUNE_OR_VILLAGE_SCHEMA: dict = {
    "pattern": "^[0-9]{6}([0-9]{2})?$",
    "format": "ncdd-commune-or-village",
}


def commune_or_village(code: str | None) -> str | None:
    if code is not None and len(code) not in (6, 8):
        raise ValueError("must be a commune (6 digits) or village (8 digits) code")
    return code


class Complainant(Request):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    phone: Phone | None = None
    sex: Sex | None = None
    age_group: AgeGroup | None = None
    vulnerabilities: list[Vulnerability] = Field(default_factory=list, max_length=5)


# The cross-field rule of IntakeBase, stated in the schema: a complainant unless anonymous,
# none when anonymous.
ANONYMITY_RULE: dict = {
    "if": {"properties": {"anonymous": {"const": True}}, "required": ["anonymous"]},
    "then": {"properties": {"complainant": {"type": "null"}}},
    "else": {"required": ["complainant"], "properties": {"complainant": {"type": "object"}}},
}


class IntakeBase(Request):
    category: Category
    description: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)
    ]
    programme_code: ProgrammeCode | None = None
    anonymous: StrictBool = False
    complainant: Complainant | None = Field(None, validate_default=True)

    @field_validator("complainant")
    @classmethod
    def _identity_fits_anonymity(cls, value: Complainant | None, info: ValidationInfo):
        anonymous = info.data.get("anonymous", False)
        if anonymous and value is not None:
            raise ValueError("must be absent when anonymous is true")
        if not anonymous and value is None:
            raise ValueError("required unless anonymous is true")
        return value


class GrievanceIntake(IntakeBase):
    """A grievance recorded by staff at an office, on the hotline, at a meeting ..."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            **ANONYMITY_RULE,
            "examples": [
                {
                    "category": "payment_problem",
                    "description": "The April payment has not arrived.",
                    "channel": "commune_office",
                    "location_code": "120801",
                    "complainant": {
                        "name": "Sok Dara",
                        "phone": "012345678",
                        "sex": "female",
                        "age_group": "36_59",
                    },
                }
            ],
        },
    )

    channel: Channel
    location_code: LocationCode | None = Field(
        None,
        description="Commune or village; may be omitted when household_id is known to the "
        "registry, whose commune then handles it.",
        examples=["120801"],
        json_schema_extra=COMMUNE_OR_VILLAGE_SCHEMA,
    )
    household_id: uuid.UUID | None = None
    member_id: uuid.UUID | None = None

    @field_validator("location_code")
    @classmethod
    def _commune_or_village(cls, value: str | None) -> str | None:
        return commune_or_village(value)

    @field_validator("member_id")
    @classmethod
    def _member_of_a_household(cls, value, info: ValidationInfo):
        if value is not None and info.data.get("household_id") is None:
            raise ValueError("needs household_id")
        return value


class Acknowledge(Request):
    public_message: Text | None = Field(None, max_length=2000)


class StartWork(Request):
    public_message: Text | None = Field(None, max_length=2000)


class Resolve(Request):
    decision: Decision
    resolution_summary: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)
    ] = Field(description="The answer the complainant reads through the tracking code.")


class Reject(Request):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class Close(Request):
    public_message: Text | None = Field(None, max_length=2000)


class Escalate(Request):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class LinkHousehold(Request):
    """The registry household the grievance is about, by its code (as on the household's
    card or the registry's screens), and optionally one of its members."""

    household_code: Annotated[
        str,
        BeforeValidator(lambda v: v.strip().upper() if isinstance(v, str) else v),
        StringConstraints(pattern=r"^HH\d{9}$"),
    ] = Field(description="HH + 9 digits (any case, spaces trimmed).", examples=["HH000000013"])
    member_id: uuid.UUID | None = None


class TimelineEntryCreate(Request):
    kind: Literal["public_response", "internal_note"]
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]


class ComplainantRead(BaseModel):
    name: str | None
    phone: str | None
    sex: str | None
    age_group: str | None
    vulnerabilities: list[str]


class GrievanceRead(BaseModel):
    id: uuid.UUID
    version: int
    tracking_code: str | None = Field(
        description="Shown to the handling unit's handlers only (they give it to the citizen)."
    )
    channel: str
    category: str
    sensitive: bool
    programme_code: str | None
    location_code: str
    description: str
    household_id: uuid.UUID | None
    member_id: uuid.UUID | None
    anonymous: bool
    complainant_visible: bool
    complainant: ComplainantRead | None
    status: str
    decision: str | None
    resolution_summary: str | None
    rejection_reason: str | None
    handling_tier: str
    handling_admin_code: str
    tier_entered_at: datetime
    due_kind: str | None
    due_at: datetime | None
    escalation_count: int
    sla_breach_count: int
    reopen_count: int
    reopen_until: datetime | None
    rating: int | None
    submitted_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    rejected_at: datetime | None


class TimelineEntryRead(BaseModel):
    seq: int
    occurred_at: datetime
    kind: str
    public: bool
    text: str | None
    actor: str
    details: dict


class CodeListEntry(BaseModel):
    code: str
    label: str
    sensitive: bool | None = None


class CodeList(BaseModel):
    code_list: str
    language: Literal["km", "en"]
    items: list[CodeListEntry]
