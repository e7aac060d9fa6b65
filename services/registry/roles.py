"""The registry's roles and who may do what: the one place their names are written.

Rules are about the caller only (roles and tier); the routes use them as dependencies
(`services.registry.access`), and a loader checks them after finding the record where a
404 must come before a 403. The area a caller may act in is the jurisdiction's business.
"""

from __future__ import annotations

from dataclasses import replace

from shared.access import RoleRule
from shared.tiers import Tier

OFFICER = "registry.officer"  # registers and corrects households (commune, CS)
VERIFIER = "registry.verifier"  # verifies, decides (district, DMK, and above)
STAFF = (OFFICER, VERIFIER)

DISTRICT_OR_ABOVE = (Tier.DMK, Tier.CP, Tier.NATIONAL)

SENSITIVE_READER = RoleRule(
    STAFF, detail="National ID and phone numbers are shown to registry officers and verifiers."
)
CASE_WORKER = RoleRule(
    STAFF, person=True, detail="Cases are worked by registry officers and verifiers."
)
IMPORTER = RoleRule(
    (OFFICER,), person=True, detail="Importing households needs the role registry.officer."
)
IMPORT_COMMITTER = replace(IMPORTER, detail="Committing an import needs the role registry.officer.")
IMPORT_READER = RoleRule(
    STAFF,
    person=True,
    detail="Reading imports needs the role registry.officer or registry.verifier.",
)
PROGRAMME_ADMIN = RoleRule(
    (VERIFIER,),
    tiers=(Tier.NATIONAL,),
    detail="Programmes are defined at the national level by registry verifiers.",
)
ENROLMENT_PROPOSER = RoleRule(
    STAFF, detail="Proposing an enrolment needs the registry.officer role."
)
BENEFIT_RECORDER = RoleRule(
    STAFF, detail="Recording benefits needs a registry officer or verifier role."
)
DUPLICATE_REVIEWER = RoleRule(
    (VERIFIER,),
    tiers=DISTRICT_OR_ABOVE,
    detail="Duplicates are decided by a registry verifier (district or above).",
)
CHANGE_MAKER = RoleRule(
    (OFFICER,),
    tiers=(Tier.CS,),
    detail="Change requests are made by a registry officer of the household's commune (CS).",
)
CHANGE_CHECKER = RoleRule(
    (VERIFIER,),
    tiers=DISTRICT_OR_ABOVE,
    detail="Change requests are verified by a registry verifier of the district (DMK) or above.",
)


def enrolment_decider(action: str) -> RoleRule:
    """Who may approve, reject, suspend, resume or exit an enrolment."""
    return RoleRule(
        (VERIFIER,),
        tiers=DISTRICT_OR_ABOVE,
        detail=f"To {action} an enrolment takes a registry verifier at the district or above.",
    )


# For services/registry/households/service.py, once its split lands (its `_require_verifier`
# and `_require_commune_officer` keep their jurisdiction checks and take these for the role).
HOUSEHOLD_VERIFIER = RoleRule(
    (VERIFIER,),
    tiers=DISTRICT_OR_ABOVE,
    detail="Only a registry verifier of the district (DMK), province (CP) or national level "
    "verifies households.",
)


def commune_officer(what: str) -> RoleRule:
    """A commune (CS) registry officer: who registers, corrects and resubmits households."""
    return RoleRule(
        (OFFICER,),
        tiers=(Tier.CS,),
        detail=f"{what}: only a commune (CS) registry officer may do this.",
    )
