"""What the programme API reads and writes."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from services.registry.programmes.models import BenefitPeriod, ProgrammeTarget
from services.registry.programmes.rules import Rule, check_rules_fit_target

ProgrammeCode = Annotated[
    str,
    Field(
        pattern=r"^[A-Z][A-Z0-9_]{1,39}$",
        description="Stable programme code, upper case (e.g. FAMILY_PACKAGE).",
        examples=["FAMILY_PACKAGE"],
    ),
]
AmountKhr = Annotated[int, Field(gt=0, le=1_000_000_000, description="Riel, an integer.")]

TARGET_LABELS = {
    "household": {"en": "Household", "km": "គ្រួសារ"},
    "individual": {"en": "Individual", "km": "បុគ្គល"},
}
PERIOD_LABELS = {
    "monthly": {"en": "Monthly", "km": "ប្រចាំខែ"},
    "quarterly": {"en": "Quarterly", "km": "ប្រចាំត្រីមាស"},
    "yearly": {"en": "Yearly", "km": "ប្រចាំឆ្នាំ"},
    "one_off": {"en": "One-off", "km": "ម្តង"},
}


# The cross-field rule, stated in the schema: an amount in riel or an item in kind, not both.
ONE_BENEFIT_KIND: dict = {
    "if": {
        "properties": {"benefit_amount_khr": {"type": "integer"}},
        "required": ["benefit_amount_khr"],
    },
    "then": {"properties": {"benefit_in_kind_item": {"type": "null"}}},
    "else": {
        "required": ["benefit_in_kind_item"],
        "properties": {"benefit_in_kind_item": {"type": "string"}},
    },
}


class ProgrammeCreate(BaseModel):
    """A programme and its eligibility rules."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            **ONE_BENEFIT_KIND,
            "examples": [
                {
                    "code": "CASH_PREGNANT",
                    "name_km": "កម្មវិធីឧបត្ថម្ភសាច់ប្រាក់សម្រាប់ស្ត្រីមានផ្ទៃពោះ",
                    "name_en": "Cash transfer for pregnant women and children under 2",
                    "owner_ministry": "Ministry of Social Affairs",
                    "target": "household",
                    "eligibility": {
                        "kind": "all",
                        "rules": [
                            {"kind": "poverty_level", "levels": ["POOR_1", "POOR_2"]},
                            {
                                "kind": "has_member",
                                "where": {"kind": "age", "unit": "months", "max": 23},
                            },
                        ],
                    },
                    "benefit_amount_khr": 40000,
                    "benefit_period": "monthly",
                }
            ],
        },
    )

    code: ProgrammeCode
    name_km: str = Field(min_length=1, max_length=200)
    name_en: str = Field(min_length=1, max_length=200)
    description_en: str = Field("", max_length=2000)
    owner_ministry: str = Field(min_length=1, max_length=200)
    target: ProgrammeTarget
    eligibility: Rule = Field(description="Declarative eligibility rules (see the rule kinds).")
    benefit_amount_khr: AmountKhr | None = None
    benefit_in_kind_item: str | None = Field(
        None, min_length=1, max_length=200, validate_default=True
    )
    benefit_period: BenefitPeriod
    active: bool = True

    @field_validator("eligibility")
    @classmethod
    def _fits_target(cls, rule: Rule, info: ValidationInfo) -> Rule:
        target = info.data.get("target")
        if target is not None:
            check_rules_fit_target(rule, target)
        return rule

    @field_validator("benefit_in_kind_item")
    @classmethod
    def _one_benefit_kind(cls, item: str | None, info: ValidationInfo) -> str | None:
        amount = info.data.get("benefit_amount_khr")
        if (item is None) == (amount is None) and "benefit_amount_khr" in info.data:
            raise ValueError("give either benefit_amount_khr or benefit_in_kind_item, not both")
        return item


class ProgrammeUpdate(BaseModel):
    """Fields to change; the code never changes. Send `null` to clear the benefit kind you
    are replacing (e.g. an amount by an in-kind item)."""

    model_config = ConfigDict(extra="forbid")

    name_km: str | None = Field(None, min_length=1, max_length=200)
    name_en: str | None = Field(None, min_length=1, max_length=200)
    description_en: str | None = Field(None, max_length=2000)
    owner_ministry: str | None = Field(None, min_length=1, max_length=200)
    target: ProgrammeTarget | None = None
    eligibility: Rule | None = None
    benefit_amount_khr: AmountKhr | None = None
    benefit_in_kind_item: str | None = Field(None, min_length=1, max_length=200)
    benefit_period: BenefitPeriod | None = None
    active: bool | None = None

    @field_validator(
        "name_km",
        "name_en",
        "owner_ministry",
        "target",
        "benefit_period",
        "active",
        "description_en",
        "eligibility",
    )
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may be omitted but not null")
        return value


class Label(BaseModel):
    code: str
    label: str = Field(description="In the language asked for with Accept-Language (km|en).")


class ProgrammeBenefit(BaseModel):
    """What a programme gives each period (in riel, or in kind)."""

    amount_khr: int | None
    in_kind_item: str | None
    period: Label


class ProgrammePublic(BaseModel):
    id: UUID
    code: str
    name: str = Field(description="In the language asked for with Accept-Language (km|en).")
    name_km: str
    name_en: str
    description_en: str
    owner_ministry: str
    target: Label
    eligibility: dict[str, Any]
    eligibility_summary: str = Field(description="The rules in one English sentence.")
    benefit: ProgrammeBenefit
    active: bool
    version: int
