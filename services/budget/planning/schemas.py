"""Request and response bodies of fiscal years and envelopes."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from services.budget.amounts import riel
from services.budget.codes import LineCode


class FiscalYearCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"year": 2027}]})
    year: Annotated[int, Field(ge=2000, le=2100, description="A calendar year.")]


class FiscalYearRead(BaseModel):
    year: int
    starts_on: date
    ends_on: date
    opened_at: datetime


class EnvelopeSet(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"amount_riel": 40_000_000_000}]}
    )
    amount_riel: riel(ge=0, le=10**18)  # type: ignore[valid-type]


class EnvelopeRead(BaseModel):
    id: uuid.UUID
    fiscal_year: int
    line_code: LineCode
    line_name_km: str
    line_name_en: str
    amount_riel: int
    version: int
    set_at: datetime


class BudgetLineRead(BaseModel):
    code: LineCode
    name_km: str
    name_en: str
