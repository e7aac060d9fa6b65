"""Request and response bodies of activities."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.isaf.codes import ActivityType
from shared.gazetteer import VillageCode
from shared.text import Line

Venue = Annotated[Line, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Count = Annotated[int, Field(ge=0, le=100_000)]


class Participation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    total: Count = Field(examples=[57])
    female: Count = Field(examples=[31])
    male: Count = Field(examples=[26])
    with_disability: Count = 0
    ethnic_minority: Count = 0
    youth: Count = 0
    idpoor: Count = Field(0, description="Holders of an IDPoor (equity) card.")


class ActivityCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cycle_id: uuid.UUID
    activity_type: ActivityType
    held_on: date = Field(description="A date in the cycle's year.")
    venue: Venue = Field(examples=["Pagoda hall, Phum Phnom Penh Thmei"])
    village_code: VillageCode | None = None
    facilitator_caf_ids: list[uuid.UUID] = Field(default_factory=list, max_length=50)
    participants: Participation
    booklets: Count = Field(0, description="Booklets handed out (door-to-door rounds).")


class ActivityRead(BaseModel):
    id: uuid.UUID
    cycle_id: uuid.UUID
    location_code: str
    village_code: str | None
    activity_type: ActivityType
    activity_type_label: str
    held_on: date
    venue: str
    facilitator_caf_ids: list[uuid.UUID]
    participants: Participation
    booklets: int
