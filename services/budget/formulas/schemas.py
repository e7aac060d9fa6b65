"""What a formula is: weighted components whose weights sum to exactly one (decimals, never
floats), read by the allocation engine (`allocations.engine`).

Components:

- `equal`: the component's share divided equally among the units;
- `indicator`: proportional to an indicator of each unit (registry, gazetteer or dataset);
- `poverty`: proportional to `poor_1_weight x POOR_1 households + poor_2_weight x POOR_2
  households` (the registry's active households by IDPoor level);
- `per_sub_unit`: the share divided equally among the sub-units (villages, communes or
  districts) of all units, each unit receiving the sum over its own sub-units.

When a weighted component's indicator sums to zero over the units, the run is refused with a
problem naming the component (`on_zero_total: refuse`, the default) or, if the formula says
`on_zero_total: equal_share`, that component's share is divided equally instead.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from services.budget.codes import OnZero
from shared.text import Line, Text

# Indicators a formula may read: from the registry's events (active households), from the
# gazetteer, or `dataset.<code>` (the latest official dataset with that code).
REGISTRY_INDICATORS = {
    "households": "Active households registered in the registry",
    "households_poor_1": "Active households at IDPoor level POOR_1",
    "households_poor_2": "Active households at IDPoor level POOR_2",
    "members": "Active members of active households",
    "vulnerable_members": "Active members under 18 or aged 60 and over in the fiscal year",
}
GAZETTEER_INDICATORS = {
    "villages": "Number of villages (NCDD gazetteer)",
    "communes": "Number of communes and sangkats (NCDD gazetteer)",
    "districts": "Number of districts, municipalities and khans (NCDD gazetteer)",
}
DATASET_PREFIX = "dataset."
_DATASET_CODE = re.compile(r"^[a-z][a-z0-9_]{1,62}$")


def check_indicator(value: str) -> str:
    if value in REGISTRY_INDICATORS or value in GAZETTEER_INDICATORS:
        return value
    if value.startswith(DATASET_PREFIX) and _DATASET_CODE.fullmatch(value[len(DATASET_PREFIX) :]):
        return value
    known = ", ".join([*REGISTRY_INDICATORS, *GAZETTEER_INDICATORS, "dataset.<code>"])
    raise ValueError(f"unknown indicator {value!r}; one of {known}")


def _decimal_string(pattern: str, example: str, description: str) -> tuple[Any, ...]:
    """A decimal sent as a string matching `pattern` (JSON numbers are refused: a binary
    float cannot carry an exact weight), stated as such in the OpenAPI document."""
    compiled = re.compile(pattern)

    def check(value: object) -> object:
        if isinstance(value, Decimal):
            return value
        if not isinstance(value, str) or not compiled.fullmatch(value):
            raise ValueError(f"must be a decimal string such as {example!r}")
        return value

    schema = {"type": "string", "pattern": pattern, "examples": [example]}
    return (
        BeforeValidator(check),
        # Shortest form out ("0.3", not "0.3000000000" as a NUMERIC column reads back), so
        # an answer matches the pattern a request is held to.
        PlainSerializer(lambda d: format(d.normalize(), "f"), when_used="json"),
        WithJsonSchema({**schema, "description": description}),
    )


WEIGHT_PATTERN = r"^(0?\.[0-9]{0,9}[1-9]|1(\.0{1,10})?)$"
Weight = Annotated[
    Decimal,
    Field(gt=0, le=1, max_digits=12, decimal_places=10),
    *_decimal_string(
        WEIGHT_PATTERN,
        "0.3",
        "The component's share, a decimal string above 0 and at most 1 with at most 10 "
        'decimals, e.g. "0.3"; the weights of a formula sum to exactly 1.',
    ),
]
POVERTY_WEIGHT_PATTERN = r"^[0-9]{1,6}(\.[0-9]{1,6})?$"


def poverty_weight(example: str) -> Any:
    return Annotated[
        Decimal,
        Field(ge=0, max_digits=12, decimal_places=6),
        *_decimal_string(
            POVERTY_WEIGHT_PATTERN,
            example,
            "The weight of a household of this poverty level, a decimal string with at most "
            "6 decimals; the two weights cannot both be zero.",
        ),
    ]


_FORBID = ConfigDict(extra="forbid", frozen=True)


class EqualShare(BaseModel):
    model_config = _FORBID
    kind: Literal["equal"] = "equal"
    weight: Weight


class ByIndicator(BaseModel):
    model_config = _FORBID
    kind: Literal["indicator"] = "indicator"
    weight: Weight
    indicator: str = Field(examples=["dataset.population"])
    on_zero_total: OnZero = "refuse"

    _indicator = field_validator("indicator")(classmethod(lambda cls, v: check_indicator(v)))


class PovertyWeighted(BaseModel):
    model_config = _FORBID
    kind: Literal["poverty"] = "poverty"
    weight: Weight
    poor_1_weight: poverty_weight("2") = Decimal(2)  # type: ignore[valid-type]
    poor_2_weight: poverty_weight("1") = Decimal(1)  # type: ignore[valid-type]
    on_zero_total: OnZero = "refuse"

    @model_validator(mode="after")
    def _some_weight(self) -> PovertyWeighted:
        if self.poor_1_weight == 0 and self.poor_2_weight == 0:
            raise ValueError("poor_1_weight and poor_2_weight cannot both be zero")
        return self


class PerSubUnit(BaseModel):
    model_config = _FORBID
    kind: Literal["per_sub_unit"] = "per_sub_unit"
    weight: Weight
    sub_unit: Literal["village", "commune", "district"] = "village"
    on_zero_total: OnZero = "refuse"


Component = Annotated[
    EqualShare | ByIndicator | PovertyWeighted | PerSubUnit, Field(discriminator="kind")
]


class FormulaDefinition(BaseModel):
    """Weighted components (weights summing to exactly 1) and an optional floor and cap of
    each unit's amount in riel."""

    model_config = _FORBID

    components: list[Component] = Field(min_length=1, max_length=20)
    floor_riel: int | None = Field(default=None, ge=0, description="Least amount per unit.")
    cap_riel: int | None = Field(default=None, ge=0, description="Most amount per unit.")

    @field_validator("components")
    @classmethod
    def _weights_sum_to_one(cls, components: list) -> list:
        total = sum((c.weight for c in components), Decimal(0))
        if total != 1:
            raise ValueError(f"the weights must sum to exactly 1; they sum to {total}")
        return components

    @model_validator(mode="after")
    def _floor_below_cap(self) -> FormulaDefinition:
        if (
            self.floor_riel is not None
            and self.cap_riel is not None
            and self.floor_riel > self.cap_riel
        ):
            raise ValueError("floor_riel must not exceed cap_riel")
        return self

    def indicators(self) -> set[str]:
        """The indicators the formula reads (the poverty component reads two)."""
        needed: set[str] = set()
        for component in self.components:
            if isinstance(component, ByIndicator):
                needed.add(component.indicator)
            elif isinstance(component, PovertyWeighted):
                needed |= {"households_poor_1", "households_poor_2"}
            elif isinstance(component, PerSubUnit):
                needed.add(f"{component.sub_unit}s")
        return needed


class FormulaCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "code": "POVERTY_2027",
                    "name": "Poverty-weighted provincial formula",
                    "description": "20 % equal, 80 % by poor households (POOR_1 twice POOR_2).",
                    "definition": {
                        "components": [
                            {"kind": "equal", "weight": "0.2"},
                            {"kind": "poverty", "weight": "0.8", "poor_1_weight": "2",
                             "poor_2_weight": "1"},
                        ]
                    },
                }
            ]
        },
    )  # fmt: skip

    code: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]{1,39}$", examples=["POVERTY_2027"])]
    name: Annotated[Line, Field(min_length=1, max_length=200)]
    description: Annotated[Text, Field(max_length=2000)] = ""
    definition: FormulaDefinition


class FormulaVersionCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Poverty-weighted provincial formula (floor)",
                    "definition": {
                        "components": [
                            {"kind": "equal", "weight": "0.25"},
                            {"kind": "poverty", "weight": "0.75"},
                        ],
                        "floor_riel": 100000000,
                    },
                }
            ]
        },
    )

    name: Annotated[Line, Field(min_length=1, max_length=200)]
    description: Annotated[Text, Field(max_length=2000)] = ""
    definition: FormulaDefinition


class FormulaRead(BaseModel):
    code: str
    version: int
    name: str
    description: str
    definition: FormulaDefinition
    shipped: bool = Field(description="Shipped with the service (not stored by a planner).")
