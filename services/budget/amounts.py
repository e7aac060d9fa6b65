"""Amounts in whole riel, as the OpenAPI document states them (`type: integer`).

JSON Schema counts `35551.0` as an integer, so a whole-valued number is accepted as one; a
string, a boolean or a fraction is refused (strict), so the service takes exactly what its
contract says."""

from __future__ import annotations

from typing import Annotated, Any

import annotated_types
from pydantic import BeforeValidator, Field, Strict


def _whole(value: object) -> object:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def riel(*, le: int, ge: int | None = None, gt: int | None = None, optional: bool = False) -> Any:
    """`Annotated[int, ...]` of a whole-riel amount within the bounds (`int | None` when
    `optional`)."""
    bounds = [annotated_types.Le(le)]
    bounds += [annotated_types.Ge(ge)] if ge is not None else []
    bounds += [annotated_types.Gt(gt)] if gt is not None else []
    # The bounds inside the validator: the schema states them as minimum/maximum.
    amount = Annotated[int, Strict(), *bounds, BeforeValidator(_whole)]
    return Annotated[amount | None if optional else amount, Field(description="Whole riel.")]
