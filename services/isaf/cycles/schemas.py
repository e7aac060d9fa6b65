"""Request and response bodies of facilities and cycles."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.isaf.areas import CycleAreaCode, UrbanKhanCode
from services.isaf.codes import FacilityType, Stage
from shared.gazetteer import CommuneCode, VillageCode
from shared.text import Line, Text

Name = Annotated[Line, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Note = Annotated[Text, StringConstraints(strip_whitespace=True, max_length=2000)]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _FacilityFields(Request):
    village_code: VillageCode | None = None
    name_km: Name = Field(examples=["មណ្ឌលសុខភាពភ្នំពេញថ្មី"])
    name_en: Name = Field(examples=["Phnom Penh Thmei health centre"])


class SangkatFacilityCreate(_FacilityFields):
    """A provider serving a commune/sangkat: its administration, a health centre, a school."""

    facility_type: Literal[
        FacilityType.COMMUNE_ADMINISTRATION, FacilityType.HEALTH_CENTRE, FacilityType.PRIMARY_SCHOOL
    ]
    location_code: CommuneCode = Field(
        description="The commune/sangkat it serves (6 digits).", examples=["120801"]
    )


class KhanFacilityCreate(_FacilityFields):
    """An urban khan's own administration, the provider of a khan's cycle."""

    facility_type: Literal[FacilityType.KHAN_ADMINISTRATION]
    location_code: UrbanKhanCode = Field(
        description="The urban khan (4 digits, gazetteer type Section).", examples=["1208"]
    )


# The provider's type says where it sits: a sangkat's providers at 6 digits, a khan
# administration at its urban khan's 4 (the document's `oneOf`, chosen by `facility_type`).
FacilityCreate = Annotated[
    SangkatFacilityCreate | KhanFacilityCreate, Field(discriminator="facility_type")
]


class FacilityRead(BaseModel):
    id: uuid.UUID
    version: int
    location_code: str
    village_code: str | None
    facility_type: FacilityType
    facility_type_label: str
    name_km: str
    name_en: str
    name: str = Field(description="The name in the caller's language.")


class CycleCreate(Request):
    location_code: CycleAreaCode = Field(
        description="Commune/sangkat (6 digits) or urban khan (4 digits).", examples=["120801"]
    )
    year: int = Field(ge=2015, le=2100, examples=[2026])


class StageChangeRequest(Request):
    stage: Stage = Field(description="The next stage; stages only move forward, one at a time.")
    note: Note | None = None


class StageChangeRead(BaseModel):
    from_stage: str | None
    to_stage: str
    note: str | None
    changed_at: datetime


class CycleRead(BaseModel):
    id: uuid.UUID
    version: int
    location_code: str
    year: int
    stage: Stage
    stage_label: str
    stage_changed_at: datetime
    history: list[StageChangeRead] = []
