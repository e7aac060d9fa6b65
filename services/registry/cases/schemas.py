"""What clients send and receive for cases."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, computed_field

from services.registry.cases.models import CaseStatus, CaseType
from shared import clock

# A commune (6 digits), district (4), province (2), or "" for the national level.
UnitCode = Annotated[
    str,
    StringConstraints(pattern=r"^([0-9]{2}){0,3}$"),
    Field(
        description="Admin code of a unit: commune (6 digits), district (4), province (2), "
        "or empty for the national level. It must contain the household."
    ),
]
PersonSub = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]


class CaseOpen(BaseModel):
    model_config = ConfigDict(extra="forbid")

    household_id: uuid.UUID
    member_id: uuid.UUID | None = Field(
        None, description="A member of that household, if the case is about one person."
    )
    case_type: CaseType
    description: str = Field("", max_length=2000)
    due_on: date | None = Field(
        None, description="Defaults to today plus REGISTRY_CASE_DUE_DAYS; not in the past."
    )
    assigned_admin_code: UnitCode | None = Field(
        None, description="Defaults to the household's commune."
    )
    assignee_sub: PersonSub | None = None
    assignee_name: str | None = Field(None, max_length=200)
    note: str | None = Field(
        None, min_length=1, max_length=4000, description="A first entry for the notes timeline."
    )


class CaseAssign(BaseModel):
    model_config = ConfigDict(extra="forbid")

    assigned_admin_code: UnitCode | None = Field(
        None, description="The unit that must act; unchanged when omitted."
    )
    assignee_sub: PersonSub | None = Field(
        None, description="The person who must act (their subject); unchanged when omitted."
    )
    assignee_name: str | None = Field(None, max_length=200)
    due_on: date | None = Field(None, description="A new due date; unchanged when omitted.")


class CaseNoteAdd(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=4000)


class CaseClose(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: str = Field(min_length=1, max_length=2000, description="What was done and found.")


class CaseNotePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    text: str
    author_sub: str
    author_name: str
    author_admin_code: str
    at: datetime


class CasePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    case_type: CaseType
    household_id: uuid.UUID
    member_id: uuid.UUID | None
    village_code: str
    assigned_admin_code: str
    assigned_tier: str
    assignee_sub: str | None
    assignee_name: str | None
    due_on: date
    status: CaseStatus
    outcome: str | None
    origin: str | None
    description: str
    opened_at: datetime
    opened_by: str
    started_at: datetime | None
    closed_at: datetime | None
    closed_by: str | None
    version: int

    @computed_field
    @property
    def overdue(self) -> bool:
        """Not closed and past its due date (Phnom Penh time)."""
        return self.status != CaseStatus.CLOSED and self.due_on < clock.today()


class CaseDetail(CasePublic):
    notes: list[CaseNotePublic]
