"""Verification: "has this household (or person) received programme X, and when last?"

People (SNA staff) verify within their jurisdiction: anything outside it is 404, as if it did
not exist. Machine clients holding `registry.verification.read` (e.g. the Ministry of Health's
health-equity system) verify nationwide, and get no names: they already know whom they asked
about, and the household's programmes, states and last benefits are what they need. Nobody
gets a phone number or a national ID back from this query.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.history import record_access
from services.registry.households.models import Household, Member
from services.registry.verification import repository
from services.registry.verification.schemas import VerificationQuery
from shared.principal import Principal
from shared.problems import Problem

CLIENT_SCOPE = "registry.verification.read"


@dataclass(frozen=True)
class Match:
    household: Household
    member: Member | None
    programmes: list[dict[str, Any]]
    with_names: bool


async def verify(
    session: AsyncSession, *, principal: Principal, query: VerificationQuery
) -> list[Match]:
    if principal.client:
        if not principal.has_scope(CLIENT_SCOPE):
            raise Problem.forbidden(f"Verification needs the {CLIENT_SCOPE} scope.")
        area = None
    elif principal.tier is None:
        raise Problem.forbidden("Verification is for registry staff and authorised systems.")
    else:
        area = repository.area_of(principal)
    found = await repository.find(session, query, area)
    if not found:
        raise Problem.not_found("No household matching the query in your jurisdiction")
    states = await repository.programme_states(session, list(dict.fromkeys(h.id for h, _ in found)))
    by_household: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for state in states:
        by_household.setdefault(state["household_id"], []).append(state)
    matches = []
    for household, member in found:
        programmes = [
            s
            for s in by_household.get(household.id, [])
            if member is None or s["member_id"] in (None, member.id)
        ]
        matches.append(Match(household, member, programmes, with_names=not principal.client))
        if not principal.client:
            record_access(
                session,
                principal=principal,
                entity="member" if member else "household",
                entity_id=member.id if member else household.id,
                household_id=household.id,
                sensitive_fields=False,
                purpose="registry_verify_beneficiary",
            )
    return matches
