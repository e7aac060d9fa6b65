"""The one way a repository limits rows to what a principal may see.

A principal with admin code C sees only records whose location code starts with C; national
principals see everything, including records without a location; nobody else sees those.
Repositories call `jurisdiction_filter` and never write their own `LIKE` (rule 4 of
docs/conventions.md). Prefix matching uses an index when the column has a `text_pattern_ops`
btree index: declare it with `location_index()`.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy import ColumnElement, Index, bindparam, false, true
from sqlalchemy.orm import InstrumentedAttribute

from shared.principal import Principal
from shared.problems import Problem
from shared.tiers import Tier


def jurisdiction_filter(
    principal: Principal, column: InstrumentedAttribute | ColumnElement
) -> ColumnElement[bool]:
    if principal.tier is Tier.NATIONAL:
        return true()
    if principal.tier is None or not principal.admin_code.isdigit():
        # Anonymous callers and machine clients have no area; routes that serve them decide
        # explicitly what they may read instead of relying on this filter.
        return false()
    # admin_code is digits only (checked above), so it needs no LIKE escaping. The pattern is
    # a named parameter so that a statement compiled once (`shared.db.compiled`) serves every
    # area: `jurisdiction_parameters` gives its value for another principal.
    # unique: two filters in one statement (the caller's area, and a narrowing with `within`)
    # stay two parameters.
    return column.is_not(None) & column.like(
        bindparam(JURISDICTION_PARAMETER, principal.admin_code + "%", unique=True)
    )


JURISDICTION_PARAMETER = "jurisdiction_prefix"
JurisdictionShape = Literal["national", "area", "none"]


def jurisdiction_shape(principal: Principal) -> JurisdictionShape:
    """Which of the three SQL forms `jurisdiction_filter` takes for this principal: the key
    under which a precompiled statement is cached."""
    if principal.tier is Tier.NATIONAL:
        return "national"
    if principal.tier is None or not principal.admin_code.isdigit():
        return "none"
    return "area"


def jurisdiction_parameters(principal: Principal) -> dict[str, str]:
    """The bind values of `jurisdiction_filter(principal, ...)` in a precompiled statement of
    this principal's shape."""
    if jurisdiction_shape(principal) == "area":
        return {JURISDICTION_PARAMETER: principal.admin_code + "%"}
    return {}


def stand_in(shape: JurisdictionShape) -> Principal:
    """A principal of this shape, to build the statement that is then compiled once."""
    if shape == "national":
        return Principal(sub="shape:national", tier=Tier.NATIONAL, admin_code="")
    if shape == "area":
        return Principal(sub="shape:area", tier=Tier.CP, admin_code="00")
    return Principal(sub="shape:none")


def location_index(name: str, column: str) -> Index:
    """A btree index that serves the prefix match above under any collation."""
    return Index(name, column, postgresql_ops={column: "text_pattern_ops"})


def require_in_jurisdiction(principal: Principal, location_code: str | None, *, what: str) -> None:
    """For writes: refuse to place or change a record outside the principal's area."""
    if not principal.covers(location_code):
        raise Problem.forbidden(
            f"{what} at {location_code or 'no location'} is outside your jurisdiction"
            f" ({principal.admin_code or principal.tier or 'none'})."
        )
