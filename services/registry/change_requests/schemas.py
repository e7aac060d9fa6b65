"""What clients send and receive for change requests.

The change itself is a discriminated union on `change_type`: each type names exactly the
fields it needs, validated at creation with the same schemas the households service uses
for direct edits, so a request that could never be applied is refused before anyone
verifies it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, model_validator

from services.registry.change_requests.models import ChangeRequestStatus, ChangeType
from services.registry.households.models import Relationship
from services.registry.households.schemas import (
    HouseholdCreate,
    HouseholdUpdate,
    MemberCreate,
    MemberRemovalReason,
    MemberUpdate,
    PovertyStatusInput,
)
from shared.gazetteer import VillageCode
from shared.masking import mask_sensitive

Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)]


class _Change(BaseModel):
    model_config = ConfigDict(extra="forbid")

    justification: str = Field(
        "", max_length=2000, description="Why the change is needed (for the verifier)."
    )


class _HouseholdChange(_Change):
    household_id: uuid.UUID


class RegisterHousehold(_Change):
    change_type: Literal["register_household"]
    household: HouseholdCreate


class UpdateHousehold(_HouseholdChange):
    change_type: Literal["update_household"]
    changes: HouseholdUpdate

    @model_validator(mode="after")
    def _something(self) -> UpdateHousehold:
        if not self.changes.changes():
            raise ValueError("changes must name at least one field")
        return self


class AddMember(_HouseholdChange):
    change_type: Literal["add_member"]
    member: MemberCreate


class UpdateMember(_HouseholdChange):
    change_type: Literal["update_member"]
    member_id: uuid.UUID
    changes: MemberUpdate

    @model_validator(mode="after")
    def _something(self) -> UpdateMember:
        if not self.changes.changes():
            raise ValueError("changes must name at least one field")
        return self


class RemoveMember(_HouseholdChange):
    change_type: Literal["remove_member"]
    member_id: uuid.UUID
    reason: MemberRemovalReason = Field(description="deceased, moved_out, or error.")
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None


class ChangeHead(_HouseholdChange):
    change_type: Literal["change_head"]
    member_id: uuid.UUID = Field(description="The member who becomes the head.")
    former_head_relationship: Relationship | None = None


class MoveHousehold(_HouseholdChange):
    change_type: Literal["move_household"]
    to_village_code: VillageCode = Field(description="The destination village (8 digits).")


class ChangePovertyStatus(_HouseholdChange):
    change_type: Literal["change_poverty_status"]
    poverty_status: PovertyStatusInput


class Enrol(_HouseholdChange):
    change_type: Literal["enrol"]
    programme_code: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    member_id: uuid.UUID | None = Field(None, description="For programmes targeting individuals.")


class Exit(_HouseholdChange):
    change_type: Literal["exit"]
    enrolment_id: uuid.UUID
    reason: Reason


ChangeRequestCreate = Annotated[
    RegisterHousehold
    | UpdateHousehold
    | AddMember
    | UpdateMember
    | RemoveMember
    | ChangeHead
    | MoveHousehold
    | ChangePovertyStatus
    | Enrol
    | Exit,
    Field(discriminator="change_type"),
]
CHANGE = TypeAdapter(ChangeRequestCreate)

# Stored apart from the payload, in their own columns.
_ENVELOPE_FIELDS = {"change_type", "household_id", "justification"}


def stored_payload(change: _Change) -> dict[str, Any]:
    """The change as stored: only what the maker sent (an unset field stays unset, which is
    how a member update tells "leave as is" from "clear")."""
    return change.model_dump(mode="json", exclude_unset=True, exclude=_ENVELOPE_FIELDS)


def load_change(
    change_type: str, household_id: uuid.UUID | None, payload: dict[str, Any]
) -> _Change:
    data: dict[str, Any] = {"change_type": change_type, **payload}
    if change_type != ChangeType.REGISTER_HOUSEHOLD:
        data["household_id"] = household_id
    return CHANGE.validate_python(data)


def masked(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload with national ID numbers and phone numbers masked."""
    return mask_sensitive(payload)


class Rejection(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Reason


class Cancellation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None


class ChangeRequestPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    change_type: ChangeType
    household_id: uuid.UUID | None
    village_code: str = Field(description="The household's village (the origin for a move).")
    destination_village_code: str | None
    payload: dict[str, Any] = Field(
        description="The change as the maker sent it (national ID and phone masked for "
        "callers without a registry role)."
    )
    justification: str
    status: ChangeRequestStatus
    awaiting_action: Literal["submit", "accept_move", "verify"] | None = Field(
        description="What must happen next, and `awaiting_unit` says which unit must do it."
    )
    awaiting_unit: str | None
    base_version: int | None = Field(
        description="The household's version when submitted; verification refuses the change "
        "if the household has changed since (version conflict)."
    )
    member_id: uuid.UUID | None
    submitted_at: datetime | None
    submitted_by: str | None
    destination_accepted_at: datetime | None
    destination_accepted_by: str | None
    verified_districts: list[str]
    decided_at: datetime | None
    decided_by: str | None
    reason: str | None
    result: dict[str, Any]
    created_at: datetime
    created_by: str
    version: int
