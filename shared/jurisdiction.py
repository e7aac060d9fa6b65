"""The one way a repository limits rows to what a principal may see.

A principal with admin code C sees only records whose location code starts with C; national
principals see everything, including records without a location; nobody else sees those.
Repositories call `jurisdiction_filter` and never write their own `LIKE` (house rule 4).
Prefix matching uses an index when the column has a `text_pattern_ops` btree index:
declare it with `location_index()`.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Index, false, true
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
    # admin_code is digits only (checked above), so it needs no LIKE escaping.
    return column.is_not(None) & column.like(principal.admin_code + "%")


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
