"""Who may act for a unit: the budget's writes are made by the unit itself (its planner or
approver), never by a unit above or beside it. Reads go through the jurisdiction filter in
the repositories (a unit and every unit above it see a record; siblings do not)."""

from __future__ import annotations

from shared.principal import Principal
from shared.problems import Problem
from shared.tiers import tier_for_code


def is_unit(principal: Principal, admin_code: str) -> bool:
    """Whether the principal is the administration of exactly this unit ('' = national)."""
    return (
        principal.tier is not None
        and principal.tier is tier_for_code(admin_code)
        and (principal.admin_code == admin_code)
    )


def require_unit(principal: Principal, admin_code: str, *, what: str) -> None:
    """403 unless the caller is the unit `admin_code` itself."""
    if not is_unit(principal, admin_code):
        unit = admin_code or "the national tier"
        raise Problem.forbidden(
            f"{what} is for {unit} only, not {principal.admin_code or principal.tier}."
        )
