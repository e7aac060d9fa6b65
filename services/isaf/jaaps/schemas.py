"""Request and response bodies of JAAPs and their actions."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.isaf.codes import ActionStatus, ResponsibleTier
from shared.events.catalog.isaf import SupportRequestType
from shared.text import Line, Text

Description = Annotated[
    Text, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)
]
Party = Annotated[Line, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Note = Annotated[Text, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ActionIn(Request):
    description: Description = Field(examples=["Post the health centre's fees at the entrance"])
    facility_id: uuid.UUID | None = None
    scorecard_id: uuid.UUID | None = Field(
        None, description="With indicator_id: the scorecard indicator the action answers."
    )
    indicator_id: uuid.UUID | None = None
    responsible_party: Party = Field(examples=["Chief of the health centre"])
    responsible_tier: ResponsibleTier
    deadline: date
    budget_need_riel: int = Field(0, ge=0, le=10**13, description="Whole riel; 0 if none.")


class JaapCreate(Request):
    cycle_id: uuid.UUID
    adopted_on: date = Field(description="The interface meeting's date, in the cycle's year.")
    interface_meeting_id: uuid.UUID | None = Field(
        None, description="The interface-meeting activity that adopted it."
    )
    actions: list[ActionIn] = Field(min_length=1, max_length=100)


class ActionStatusChange(Request):
    status: ActionStatus
    note: Note = Field(description="The progress note that goes with the change.")
    reason: Note | None = Field(None, description="Required when the action is dropped.")


class SupportRequestCreate(Request):
    request_type: SupportRequestType
    addressed_tier: Literal["dmk", "cp"] = Field(
        description="The commune's district/khan (dmk) or province/capital (cp)."
    )
    description: Description | None = Field(
        None, description="Defaults to the action's description."
    )


class ActionUpdateRead(BaseModel):
    from_status: str | None
    to_status: str
    note: str
    at: datetime


class ActionRead(BaseModel):
    id: uuid.UUID
    version: int
    jaap_id: uuid.UUID
    location_code: str
    year: int
    description: str
    facility_id: uuid.UUID | None
    scorecard_id: uuid.UUID | None
    indicator_id: uuid.UUID | None
    indicator_name_en: str | None
    indicator_name_km: str | None
    indicator_median: float | None
    responsible_party: str
    responsible_tier: ResponsibleTier
    deadline: date
    budget_need_riel: int
    status: ActionStatus
    status_reason: str | None
    status_changed_at: datetime
    support_status: str | None = Field(
        description="requested, approved, partly_approved, rejected or fulfilled"
    )
    support_addressed_tier: str | None
    support_addressed_admin_code: str | None
    support_approved_riel: int | None
    updates: list[ActionUpdateRead] = []


class JaapRead(BaseModel):
    id: uuid.UUID
    cycle_id: uuid.UUID
    location_code: str
    year: int
    adopted_on: date
    interface_meeting_id: uuid.UUID | None
    actions: list[ActionRead]
