"""Where I-SAF happens: a cycle belongs to a commune/sangkat or to an urban khan (the khan's
own providers); everything recorded in a cycle lies in its area."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints
from sqlalchemy import ColumnElement

from shared.gazetteer import get_gazetteer
from shared.jurisdiction import jurisdiction_filter
from shared.principal import Principal
from shared.problems import Problem
from shared.tiers import tier_for_code

# Where a cycle can be: the document says so (`format: ncdd-cycle-area`, 4 or 6 digits), and the
# service checks the rest (it exists; 4 digits only for an urban khan) with `require_cycle_area`.
CYCLE_AREA_FORMAT = "ncdd-cycle-area"
CycleAreaCode = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9]{4}([0-9]{2})?$"),
    Field(
        description="NCDD gazetteer code of a commune/sangkat (6 digits) or of an urban khan "
        "(4 digits, gazetteer type Section; a rural district is refused, 422); it must exist in "
        "the gazetteer (GET /registry/reference/gazetteer)",
        examples=["120801"],
        json_schema_extra={"format": CYCLE_AREA_FORMAT},
    ),
]
URBAN_KHAN_FORMAT = "ncdd-urban-khan"
UrbanKhanCode = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9]{4}$"),
    Field(
        description="NCDD gazetteer code of an urban khan (4 digits, gazetteer type Section; "
        "a rural district is refused, 422)",
        examples=["1208"],
        json_schema_extra={"format": URBAN_KHAN_FORMAT},
    ),
]


def is_cycle_area(code: str) -> bool:
    unit = get_gazetteer().get(code)
    return unit is not None and (
        len(code) == 6 or (len(code) == 4 and unit.unit_type_en == "Section")
    )


def require_cycle_area(code: str, *, field: str = "location_code") -> None:
    """A commune/sangkat (6 digits) or an urban khan (4 digits, gazetteer type "Section")."""
    unit = get_gazetteer().get(code)
    if unit is None:
        raise Problem.invalid(field, f"'{code}' is not in the NCDD gazetteer")
    if len(code) == 6:
        return
    if len(code) == 4 and unit.unit_type_en == "Section":
        return
    raise Problem.invalid(field, "must be a commune/sangkat (6 digits) or an urban khan (4 digits)")


def within(area: str, code: str) -> bool:
    """Whether `code` lies in `area` (itself included)."""
    return code.startswith(area)


def require_within(area: str, code: str, *, field: str) -> None:
    if not within(area, code):
        raise Problem.invalid(field, f"'{code}' is outside the cycle's area {area}")


def subtree(location: str, column) -> ColumnElement[bool]:
    """Narrowing a query to a subtree inside the caller's area: the jurisdiction rule, through
    the shared helper, with a stand-in principal for that area (a village: its code only)."""
    tier = tier_for_code(location)
    if tier is None:
        return column == location
    return jurisdiction_filter(
        Principal(sub=f"area:{location}", tier=tier, admin_code=location), column
    )
