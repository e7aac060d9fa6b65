"""What the benefit API reads and writes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from services.registry.benefits.models import BenefitChannel
from services.registry.benefits.periods import period_kind_and_start

BenefitStatusName = Literal["scheduled", "paid", "failed", "returned"]


# The cross-field rule, stated in the schema: an amount in riel or an item in kind, not both.
ONE_BENEFIT_KIND: dict = {
    "if": {"properties": {"amount_khr": {"type": "integer"}}, "required": ["amount_khr"]},
    "then": {"properties": {"in_kind_item": {"type": "null"}}},
    "else": {"required": ["in_kind_item"], "properties": {"in_kind_item": {"type": "string"}}},
}


class BenefitCreate(BaseModel):
    """One benefit of an enrolment: an amount in riel or an item in kind, for one period."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            **ONE_BENEFIT_KIND,
            "examples": [
                {"period": "2026-11", "amount_khr": 40000, "channel": "cash_wing"},
            ],
        },
    )

    period: str = Field(
        description="The period paid for, of the programme's kind: YYYY-MM, YYYY-Qn or YYYY.",
        examples=["2026-11"],
        pattern=r"^[1-9][0-9]{3}(-(0[1-9]|1[0-2])|-Q[1-4])?$",
    )
    amount_khr: int | None = Field(None, gt=0, le=1_000_000_000, description="Riel.")
    in_kind_item: str | None = Field(None, min_length=1, max_length=200, validate_default=True)
    channel: BenefitChannel
    delivered_on: date | None = Field(None, description="Required once paid.")
    status: BenefitStatusName = "scheduled"

    @field_validator("period")
    @classmethod
    def _period(cls, period: str) -> str:
        period_kind_and_start(period)
        return period

    @field_validator("in_kind_item", mode="after")
    @classmethod
    def _one_kind(cls, item: str | None, info: ValidationInfo) -> str | None:
        if "amount_khr" in info.data and (item is None) == (info.data["amount_khr"] is None):
            raise ValueError("give either amount_khr or in_kind_item, not both or neither")
        return item


class BenefitStatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["paid", "failed", "returned"]
    delivered_on: date | None = Field(None, description="Required when marking paid.")
    reason: str | None = Field(None, max_length=500, description="Why it failed or came back.")


class BenefitPublic(BaseModel):
    id: UUID
    enrolment_id: UUID
    programme_code: str
    household_id: UUID
    member_id: UUID | None
    period: str
    amount_khr: int | None
    in_kind_item: str | None
    channel: str
    delivered_on: date | None
    status: BenefitStatusName
    status_reason: str | None
    created_at: datetime
    created_by: str
    version: int
