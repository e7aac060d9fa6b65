"""Bodies of allocation runs: the request, the run with each unit's amount and explanation."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.budget.codes import LineCode, RunStatus
from services.budget.formulas.schemas import FormulaDefinition

UnitLevel = Literal["province", "district", "commune"]


class RunCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"fiscal_year": 2027, "line_code": "social_assistance",
                 "formula_code": "POVERTY_WEIGHTED"},
                {"fiscal_year": 2027, "line_code": "social_assistance",
                 "formula_code": "COMMUNE_FUND_2024_2028", "formula_version": 1},
            ]
        },
    )  # fmt: skip

    fiscal_year: Annotated[int, Field(ge=2000, le=2100)]
    line_code: LineCode
    formula_code: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]{1,39}$")]
    formula_version: Annotated[int | None, Field(ge=1, description="Default: the latest.")] = None
    unit_level: UnitLevel | None = Field(
        default=None,
        description="The level allocated to; default the children of your unit (national: "
        "provinces, a province: its districts and khans, a district: its communes and "
        "sangkats). A national run may allocate to every commune directly.",
    )
    units: list[Annotated[str, Field(pattern=r"^[0-9]{2,6}$")]] | None = Field(
        default=None,
        max_length=2000,
        description="Only these units (default: every unit of the level in your area). A unit "
        "outside your area or of another level is refused naming it.",
    )


class ComponentShare(BaseModel):
    index: int
    kind: str
    weight: str
    indicator: str | None = Field(description="What the component reads (None: equal share).")
    value: int | None = Field(description="The unit's value of that indicator (None: no data).")
    total: int | None = Field(description="The indicator summed over the run's units.")
    share_riel: str = Field(description="The unit's exact share, to 2 decimals (not rounded).")
    equal_share_fallback: bool = False


class UnitRead(BaseModel):
    admin_code: str = Field(description="With its leading zeros.")
    name_km: str
    name_en: str
    amount_riel: int
    exact_riel: str = Field(description="The exact total, to 2 decimals, before rounding.")
    exact_fraction: str = Field(description="The exact total as numerator/denominator.")
    rounding_riel: str = Field(description="amount minus exact: within (-1, 1).")
    floor_cap_adjustment_riel: str
    components: list[ComponentShare]


class RunRead(BaseModel):
    id: uuid.UUID
    version: int
    status: RunStatus
    fiscal_year: int
    line_code: LineCode
    allocating_tier: str
    allocating_admin_code: str = Field(description="'' for the national tier.")
    unit_level: str
    parent_run_id: uuid.UUID | None
    formula_code: str
    formula_version: int
    definition: FormulaDefinition
    envelope_riel: int
    allocated_riel: int = Field(description="The sum of the unit amounts: the envelope.")
    unit_count: int
    compute_ms: float = Field(description="Server time to read the inputs and allocate.")
    progress: list[dict] = Field(
        default_factory=list,
        description="The run's phases as it was computed: units done of the total and the "
        "milliseconds elapsed at the end of each.",
    )
    provenance: dict
    rounding_rule: str
    created_by: str
    created_at: datetime
    proposed_by: str | None
    proposed_at: datetime | None
    approved_by: str | None
    approved_at: datetime | None
    published_at: datetime | None
    units: list[UnitRead] | None = Field(
        default=None, description="Each unit's amount and explanation (not in lists)."
    )


class Recomputation(BaseModel):
    run_id: uuid.UUID
    identical: bool = Field(description="The stored inputs give the stored amounts to the riel.")
    differences: dict[str, list[int]] = Field(description="admin_code: [stored, recomputed].")


ROUNDING_RULE = (
    "Each unit's exact total (the sum of its components) is rounded once by the largest "
    "remainder method: every unit gets the whole riel below its exact total, and the riel "
    "left go one each to the largest fractional remainders; equal remainders go first to the "
    "lowest unit code (ascending, leading zeros kept). The amounts sum exactly to the envelope."
)
