"""Who may do what to a household, and in which state: the role, tier and jurisdiction
checks of the households service (a CS officer registers and edits before verification, a
district or higher verifier verifies), kept apart from the rules and the writes."""

from __future__ import annotations

from services.registry import roles
from services.registry.households.models import (
    Household,
    HouseholdStatus,
)
from shared.gazetteer import InvalidLocationCode, Level, get_gazetteer
from shared.jurisdiction import require_in_jurisdiction
from shared.principal import Principal
from shared.problems import CHANGE_REQUEST_REQUIRED, Problem

DIRECTLY_EDITABLE = (HouseholdStatus.PENDING_VERIFICATION, HouseholdStatus.RETURNED)
CLOSED = (HouseholdStatus.DISSOLVED, HouseholdStatus.MOVED)


def require_commune_officer(principal: Principal, village_code: str, *, what: str) -> None:
    """A CS registry officer whose commune contains the village."""
    roles.commune_officer(what).check(principal)
    require_in_jurisdiction(principal, village_code, what="A household")


def require_verifier(principal: Principal, household: Household) -> None:
    """A registry verifier at the district, province or national level above the household."""
    roles.HOUSEHOLD_VERIFIER.check(principal)
    require_in_jurisdiction(principal, household.village_code, what="A household")


def require_direct_edit(principal: Principal, household: Household) -> None:
    """Direct edits: the CS officer of the household's commune, before verification only.
    An active household answers 409: its changes go through change requests."""
    require_commune_officer(principal, household.village_code, what="Editing a household")
    if household.status == HouseholdStatus.ACTIVE:
        raise Problem.conflict(
            "The household is verified (active): changes go through a change request "
            "(POST /change-requests), not direct edits.",
            slug=CHANGE_REQUEST_REQUIRED,
        )
    if household.status not in DIRECTLY_EDITABLE:
        raise Problem.conflict(f"The household is {household.status} and cannot be edited.")


def require_open(household: Household) -> None:
    if household.status in CLOSED:
        raise Problem.conflict(f"The household is {household.status} and cannot change.")


def require_village(code: str, field: str) -> str:
    try:
        get_gazetteer().require(code, level=Level.VILLAGE)
    except InvalidLocationCode as exc:
        raise Problem.invalid(field, str(exc)) from None
    return code
