"""What clients send and receive about households, members and their IDPoor status.

Format rules live here (a national ID is 9 to 12 digits, a phone number is Cambodian and is
stored as `+855...`, codes exist in the gazetteer); rules that compare fields or depend on
today's date (a child born before the head, a pregnancy due within ten months) live in the
service, which names the offending field in its problem document.

National ID numbers and phone numbers are sensitive: `MemberPublic` carries them in full only
for the roles that register and verify people (`registry.officer`, `registry.verifier`);
everyone else gets them masked (`*****3040`, `+855******78`, see `shared.masking`).
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from services.registry.households.models import (
    AssessmentMethod,
    DisabilitySeverity,
    HouseholdStatus,
    MemberStatus,
    PovertyLevel,
    Relationship,
    SchoolEnrolment,
    Sex,
    VulnerabilityCategory,
)
from services.registry.roles import SENSITIVE_READER
from shared.gazetteer import VillageCode
from shared.masking import SENSITIVE_FIELDS, mask_sensitive, mask_value

_SEPARATORS = re.compile(r"[\s\-.()/]")


def _national_id(value: str | None) -> str | None:
    if value is None:
        return None
    digits = _SEPARATORS.sub("", value)
    if not re.fullmatch(r"[0-9]{9,12}", digits):
        raise ValueError("a national ID number is 9 to 12 digits")
    return digits


def normalise_phone(value: str) -> str:
    """A Cambodian number in any usual spelling (`012 345 678`, `855 12 345 678`,
    `+855-97-1234-567`) as `+855` and the 8 or 9 digits after the trunk zero."""
    raw = _SEPARATORS.sub("", value)
    if raw.startswith("+855"):
        national = raw[4:]
    elif raw.startswith("00855"):
        national = raw[5:]
    elif raw.startswith("855") and len(raw) >= 11:
        national = raw[3:]
    elif raw.startswith("0"):
        national = raw[1:]
    else:
        raise ValueError("a Cambodian phone number starts with 0, 855 or +855")
    national = national.removeprefix("0")  # "+855 012 ..." is a common misspelling
    if not re.fullmatch(r"[1-9][0-9]{7,8}", national):
        raise ValueError("a Cambodian phone number has 8 or 9 digits after the leading 0")
    return "+855" + national


def _phone(value: str | None) -> str | None:
    return None if value is None else normalise_phone(value)


NationalId = Annotated[
    str,
    Field(
        description="National ID card number, 9 to 12 digits (sensitive).",
        examples=["010203040"],
        json_schema_extra={"pattern": r"^[ \-.()/]*([0-9][ \-.()/]*){9,12}$"},
    ),
    AfterValidator(_national_id),
]
Phone = Annotated[
    str,
    Field(
        description="Cambodian phone number; stored as +855 and the digits after the leading 0 "
        "(sensitive).",
        examples=["012 345 678"],
        json_schema_extra={"format": "kh-phone", "pattern": r"^\+?[0-9][0-9 \-.()/]{6,22}$"},
    ),
    AfterValidator(_phone),
]
NameKm = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
NameLatin = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=100, pattern=r"^[A-Za-z][A-Za-z '\-.]*$"
    ),
]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)]


# A household code as a client may type it (any case, spaces around it); its check digit is
# stated as the `household-code` format, since no pattern can check it.
HOUSEHOLD_CODE_SCHEMA: dict[str, Any] = {
    "description": "A household code: HH + 9 digits, the last a check digit (any case).",
    "examples": ["HH000000013"],
    "json_schema_extra": {"pattern": r"^\s*[Hh][Hh][0-9]{9}\s*$", "format": "household-code"},
}


def _km_script(value: str) -> str:
    if not re.search(r"[\u1780-\u17ff]", value):
        raise ValueError("a Khmer name is written in Khmer script")
    return value


# Khmer script somewhere, and no control character (shared.text).
_KHMER_NAME = (
    "^[^\\u0000-\\u001f\\u007f-\\u009f]*[\\u1780-\\u17ff][^\\u0000-\\u001f\\u007f-\\u009f]*$"
)
KhmerName = Annotated[
    NameKm, AfterValidator(_km_script), Field(json_schema_extra={"pattern": _KHMER_NAME})
]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- poverty status -------------------------------------------------------------------------


class PovertyStatusInput(_Input):
    """An IDPoor assessment result. POOR_1/POOR_2 need assessed_on and valid_until; a ROUND
    assessment names its round; UNASSESSED carries nothing else."""

    level: PovertyLevel
    score: int | None = Field(None, ge=0, le=200, description="IDPoor score (higher = poorer).")
    method: AssessmentMethod | None = None
    round_number: int | None = Field(None, ge=1, le=99)
    assessed_on: date | None = None
    valid_until: date | None = None
    equity_card_number: ShortText | None = Field(
        None, description="Equity card number (POOR_1 and POOR_2 households only)."
    )
    vulnerability_categories: list[VulnerabilityCategory] = Field(
        default_factory=list,
        max_length=5,
        description="On-demand IDPoor vulnerability categories of the household.",
    )

    @field_validator("vulnerability_categories")
    @classmethod
    def _distinct(cls, value: list[VulnerabilityCategory]) -> list[VulnerabilityCategory]:
        if len(set(value)) != len(value):
            raise ValueError("each category at most once")
        return value


class PovertyStatusPublic(BaseModel):
    level: PovertyLevel
    score: int | None = None
    method: AssessmentMethod | None = None
    round_number: int | None = None
    assessed_on: date | None = None
    valid_until: date | None = None
    equity_card_number: str | None = None
    vulnerability_categories: list[str] = Field(default_factory=list)


class PovertyStatusRecordPublic(PovertyStatusPublic):
    id: int
    recorded_at: datetime
    recorded_by: str


# --- members --------------------------------------------------------------------------------


class MemberCreate(_Input):
    """A person joining a household. Dates are checked against today and against the head
    (see the service); pregnancy only for women, a disability card only with a severity."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "family_name_km": "សុខ",
                    "given_name_km": "ដារ៉ា",
                    "family_name_latin": "Sok",
                    "given_name_latin": "Dara",
                    "sex": "female",
                    "birth_date": "1985-03-14",
                    "relationship": "head",
                    "national_id": "010203040",
                    "phone": "012345678",
                }
            ]
        },
    )

    family_name_km: KhmerName
    given_name_km: KhmerName
    family_name_latin: NameLatin
    given_name_latin: NameLatin
    sex: Sex
    birth_date: date
    birth_date_estimated: bool = Field(
        False, description="True when only the year (or an approximate date) is known."
    )
    relationship: Relationship = Field(description="Relationship to the head of household.")
    national_id: NationalId | None = None
    phone: Phone | None = None
    disability_severity: DisabilitySeverity | None = None
    disability_card_number: ShortText | None = None
    pregnant: bool = False
    pregnancy_expected_on: date | None = None
    school_enrolment: SchoolEnrolment | None = None


class MemberUpdate(_Input):
    """Fields to change on a member; fields left out stay as they are, `null` clears an
    optional field. The relationship cannot become or stop being `head` here (change the
    head instead)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"minProperties": 1, "examples": [{"phone": "012345679"}]},
    )

    family_name_km: KhmerName | None = None
    given_name_km: KhmerName | None = None
    family_name_latin: NameLatin | None = None
    given_name_latin: NameLatin | None = None
    sex: Sex | None = None
    birth_date: date | None = None
    birth_date_estimated: bool | None = None
    relationship: Relationship | None = None
    national_id: NationalId | None = None
    phone: Phone | None = None
    disability_severity: DisabilitySeverity | None = None
    disability_card_number: ShortText | None = None
    pregnant: bool | None = None
    pregnancy_expected_on: date | None = None
    school_enrolment: SchoolEnrolment | None = None

    def changes(self) -> dict[str, Any]:
        """The fields the client sent, with their values."""
        return {name: getattr(self, name) for name in self.model_fields_set}


# Member fields that cannot be cleared with null (the columns are NOT NULL).
MEMBER_REQUIRED_FIELDS = frozenset(
    {
        "family_name_km",
        "given_name_km",
        "family_name_latin",
        "given_name_latin",
        "sex",
        "birth_date",
        "birth_date_estimated",
        "relationship",
        "pregnant",
    }
)

MemberRemovalReason = Literal["deceased", "moved_out", "error"]


class MemberRemoval(_Input):
    reason: MemberRemovalReason = Field(
        description="deceased, moved_out, or error (recorded by mistake)."
    )
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None


class MemberPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    household_id: uuid.UUID
    village_code: str
    family_name_km: str
    given_name_km: str
    family_name_latin: str
    given_name_latin: str
    sex: Sex
    birth_date: date
    birth_date_estimated: bool
    relationship: Relationship
    national_id: str | None = Field(
        None, description="In full for registry officers and verifiers, masked for others."
    )
    phone: str | None = Field(
        None, description="In full for registry officers and verifiers, masked for others."
    )
    disability_severity: DisabilitySeverity | None
    disability_card_number: str | None
    pregnant: bool
    pregnancy_expected_on: date | None
    school_enrolment: SchoolEnrolment | None
    status: MemberStatus
    status_reason: str | None
    version: int
    created_at: datetime
    updated_at: datetime


class MemberSearchHit(BaseModel):
    """A search result: enough to recognise the person, nothing sensitive."""

    member_id: uuid.UUID
    household_id: uuid.UUID
    household_code: str
    village_code: str
    family_name_km: str
    given_name_km: str
    family_name_latin: str
    given_name_latin: str
    sex: Sex
    birth_date: date
    birth_date_estimated: bool
    relationship: Relationship
    status: MemberStatus
    similarity: float = Field(description="pg_trgm similarity of the name to the query (0-1).")


class MemberSearchResult(BaseModel):
    items: list[MemberSearchHit]


# --- households -----------------------------------------------------------------------------


class HouseholdCreate(_Input):
    """A household as a commune office registers it: exactly one member is the head."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "village_code": "12080102",
                    "address": "House 12, Street 271",
                    "members": [
                        {
                            "family_name_km": "សុខ",
                            "given_name_km": "ដារ៉ា",
                            "family_name_latin": "Sok",
                            "given_name_latin": "Dara",
                            "sex": "female",
                            "birth_date": "1985-03-14",
                            "relationship": "head",
                            "national_id": "010203040",
                            "phone": "012345678",
                        },
                        {
                            "family_name_km": "ចាន់",
                            "given_name_km": "វិចិត្រ",
                            "family_name_latin": "Chan",
                            "given_name_latin": "Vichet",
                            "sex": "male",
                            "birth_date": "2012-09-01",
                            "relationship": "child",
                            "school_enrolment": "lower_secondary",
                        },
                    ],
                }
            ]
        },
    )

    village_code: VillageCode
    address: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = ""
    members: list[MemberCreate] = Field(min_length=1, max_length=40)
    poverty_status: PovertyStatusInput | None = Field(
        None, description="The IDPoor status when already known at registration."
    )


class HouseholdUpdate(_Input):
    """Direct edits (before verification): the address, or the village within the same
    commune. Moving to another commune is a move (a change request once active)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"minProperties": 1, "examples": [{"address": "House 14, Street 271"}]},
    )

    address: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None
    village_code: VillageCode | None = None

    def changes(self) -> dict[str, Any]:
        return {
            name: getattr(self, name)
            for name in self.model_fields_set
            if getattr(self, name) is not None
        }


class HouseholdReturn(_Input):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"reasons": ["The head's birth date does not match the ID card."]}]
        },
    )

    reasons: list[
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)]
    ] = Field(min_length=1, max_length=20, description="What the commune must correct.")


class HeadChange(_Input):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "member_id": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
                    "former_head_relationship": "spouse",
                }
            ]
        },
    )

    member_id: uuid.UUID = Field(description="The member who becomes the head.")
    former_head_relationship: Relationship | None = Field(
        None,
        description="The former head's new relationship; by default spouse when a spouse "
        "takes over, parent when a child does, other_relative otherwise.",
    )


class HouseholdSummary(BaseModel):
    """A household's codes, status and poverty status, without members."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    code: str
    village_code: str
    status: HouseholdStatus
    head_member_id: uuid.UUID | None
    poverty_status: PovertyStatusPublic
    verified_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime


class HouseholdListItem(HouseholdSummary):
    """A household as a list screen shows it: its codes and status, its head's name, how
    many live in it and the village's name (in the language asked for)."""

    head_name_km: str | None = Field(description="The head's family and given name, Khmer.")
    head_name_latin: str | None = Field(description="The head's name in Latin script.")
    member_count: int = Field(description="Active members.", examples=[4])
    village_name: str | None = Field(
        description="The village's name in the language asked for (Accept-Language).",
        examples=["Phnom Penh Thmei"],
    )


class HouseholdPublic(HouseholdSummary):
    address: str
    returned_reasons: list[str]
    verified_by: str | None
    created_by: str
    updated_by: str
    members: list[MemberPublic]


class RecordChangePublic(BaseModel):
    """One history entry: who did what to which record, and when."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    entity: str
    entity_id: uuid.UUID
    household_id: uuid.UUID | None
    action: str
    changes: dict[str, Any]
    actor_sub: str
    actor_name: str
    actor_tier: str | None
    actor_admin_code: str
    request_id: str | None
    at: datetime


# --- masking --------------------------------------------------------------------------------


def sees_sensitive(roles: frozenset[str]) -> bool:
    return bool(roles.intersection(SENSITIVE_READER.roles))


def mask_member(member: MemberPublic) -> MemberPublic:
    return member.model_copy(
        update={f: mask_value(f, getattr(member, f)) for f in SENSITIVE_FIELDS}
    )


def mask_changes(changes: dict[str, Any]) -> dict[str, Any]:
    """A history entry's changes with sensitive values masked (the stored trail keeps them)."""
    return mask_sensitive(changes)
