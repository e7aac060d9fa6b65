"""Request and response bodies of CAFs and trainings."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.isaf.codes import Audience, Sex
from shared.gazetteer import CommuneCode, LocationCode
from shared.text import Line

Name = Annotated[Line, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
# The document states the pattern a client's value keeps after trimming (`Line`'s own pattern
# would otherwise hide it), and `kh-phone`, the format of our phone numbers.
Phone = Annotated[
    Line,
    StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9 ]{6,20}$"),
    Field(json_schema_extra={"format": "kh-phone", "pattern": r"^\+?[0-9][0-9 ]{4,18}[0-9]$"}),
]
Topic = Annotated[Line, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CafCreate(Request):
    location_code: CommuneCode = Field(description="The commune/sangkat the CAF serves.")
    name: Name = Field(examples=["Sok Channary"])
    sex: Sex
    birth_year: int | None = Field(None, ge=1930, le=2015)
    phone: Phone | None = Field(None, examples=["+855 12 345 678"])
    local_ngo: Name | None = Field(None, examples=["Star Kampuchea"])
    active: bool = True


class CafUpdate(Request):
    active: bool | None = None
    phone: Phone | None = None
    local_ngo: Name | None = None


class CafRead(BaseModel):
    id: uuid.UUID
    version: int
    location_code: str
    name: str
    sex: Sex
    birth_year: int | None
    phone: str | None = Field(description="Masked (+855******78) unless you record CAFs there.")
    phone_masked: bool
    local_ngo: str | None
    active: bool
    trainings_attended: int


class TrainingCreate(Request):
    location_code: LocationCode = Field(
        description="The area that organised it (commune, district/khan or province); inside "
        "your area (403 otherwise).",
        examples=["120801"],
    )
    audience: Audience
    topics: list[Topic] = Field(min_length=1, max_length=30)
    starts_on: date
    ends_on: date
    venue: Name
    attendees_total: int = Field(ge=0, le=10_000)
    attendees_female: int = Field(
        ge=0,
        le=10_000,
        description="With attendees_male at most attendees_total (422 naming this field "
        "otherwise); the rest are of another sex or did not say.",
    )
    attendees_male: int = Field(ge=0, le=10_000)
    caf_ids: list[uuid.UUID] = Field(
        default_factory=list,
        max_length=1000,
        description="Registered CAFs among the attendees (counted in `CAFs trained`).",
    )


class TrainingRead(BaseModel):
    id: uuid.UUID
    location_code: str
    audience: Audience
    topics: list[str]
    starts_on: date
    ends_on: date
    venue: str
    attendees_total: int
    attendees_female: int
    attendees_male: int
    caf_ids: list[uuid.UUID]
