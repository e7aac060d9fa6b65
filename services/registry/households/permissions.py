"""Who may do what to a household, and in which state: the role, tier and jurisdiction
checks of the households service (a CS officer registers and edits before verification, a
district or higher verifier verifies), kept apart from the rules and the writes."""

from __future__ import annotations

from services.registry.households.models import (
    Household,
    HouseholdStatus,
)
from shared.gazetteer import InvalidLocationCode, Level, get_gazetteer
from shared.jurisdiction import require_in_jurisdiction
from shared.principal import Principal
from shared.problems import Problem
from shared.tiers import Tier

OFFICER_ROLE = "registry.officer"
VERIFIER_ROLE = "registry.verifier"
VERIFIER_TIERS = (Tier.DMK, Tier.CP, Tier.NATIONAL)
DIRECTLY_EDITABLE = (HouseholdStatus.PENDING_VERIFICATION, HouseholdStatus.RETURNED)
CLOSED = (HouseholdStatus.DISSOLVED, HouseholdStatus.MOVED)


def require_commune_officer(principal: Principal, village_code: str, *, what: str) -> None:
    """A CS registry officer whose commune contains the village."""
    if principal.tier is not Tier.CS or not principal.has_role(OFFICER_ROLE):
        raise Problem.forbidden(f"{what}: only a commune (CS) registry officer may do this.")
    require_in_jurisdiction(principal, village_code, what="A household")


def require_verifier(principal: Principal, household: Household) -> None:
    """A registry verifier at the district, province or national level above the household."""
    if principal.tier not in VERIFIER_TIERS or not principal.has_role(VERIFIER_ROLE):
        raise Problem.forbidden(
            "Only a registry verifier of the district (DMK), province (CP) or national level "
            "verifies households."
        )
    require_in_jurisdiction(principal, household.village_code, what="A household")


def require_direct_edit(principal: Principal, household: Household) -> None:
    """Direct edits: the CS officer of the household's commune, before verification only.
    An active household answers 409: its changes go through change requests."""
    require_commune_officer(principal, household.village_code, what="Editing a household")
    if household.status == HouseholdStatus.ACTIVE:
        raise Problem.conflict(
            "The household is verified (active): changes go through a change request "
            "(POST /change-requests), not direct edits.",
            slug="change-request-required",
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
