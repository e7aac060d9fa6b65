"""Duplicate households: flagging likely duplicates when households are registered or
imported, and the review that confirms (merging the two: workflows.confirm_duplicate, since a
merge changes households, members and enrolments) or dismisses them.

A merge keeps the surviving household and dissolves the other into it (the households
service's `dissolve_household`, with `merged_into`). Members judged to be the same person
are not copied: the duplicate member row is marked removed ("duplicate of ...") after
anything the survivor's record lacks (national ID, phone, disability) is copied onto it.
Every other active member row moves to the surviving household, keeping its id, so its
history and enrolments follow it; a former head becomes `other_relative`. Enrolments of the
dissolved household are re-pointed to the survivor (and to the surviving member for
identical members); where that would give the survivor two live enrolments in one
programme, the moved one is exited first, so nothing is lost and no benefit record loses its
enrolment. Other candidates involving the dissolved household stay in the queue.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import roles
from services.registry.audit import record_access, record_change
from services.registry.duplicates import disclosure, repository
from services.registry.duplicates.models import DuplicateCandidate, DuplicateStatus
from services.registry.households.models import Household, Member
from shared import clock
from shared.events.catalog.registry import (
    DuplicateFlagged,
    DuplicateResolved,
)
from shared.jurisdiction import require_in_jurisdiction
from shared.masking import NATIONAL_ID, PHONE, mask_value
from shared.outbox import emit
from shared.principal import Principal
from shared.problems import DUPLICATE_ALREADY_DECIDED, Problem


async def emit_candidate(session: AsyncSession, candidate: DuplicateCandidate, event_type) -> None:
    extra: dict[str, Any] = {}
    if event_type is DuplicateResolved:
        extra = {
            "surviving_household_id": candidate.surviving_household_id,
            "decision_reason": candidate.decision_reason,
        }
    await emit(
        session,
        event_type(
            candidate_id=candidate.id,
            household_id=candidate.household_id,
            other_household_id=candidate.other_household_id,
            village_code=candidate.village_code,
            other_village_code=candidate.other_village_code,
            reasons=candidate.reasons,
            status=candidate.status,
            **extra,
        ),
        subject=candidate.id,
        jurisdiction=candidate.village_code,
    )


# --- detection --------------------------------------------------------------------------------


async def flag_duplicates(
    session: AsyncSession,
    *,
    household_ids: list[uuid.UUID],
    principal: Principal,
    khmer_similarity: bool = True,
) -> list[DuplicateCandidate]:
    """Flag likely duplicates of the given (new, flushed) households against the whole
    registry: same national ID, same phone, same Latin name + birth date in the same commune,
    or a similar Khmer name (pg_trgm) in the same district with a birth year within one.
    Each new pair becomes a suspected candidate with a DuplicateFlagged event; pairs already
    known (suspected, confirmed or dismissed) are not flagged again. Set-based: one query for
    any number of households (imports call it per batch). The exact checks cost well under a
    millisecond per member; the Khmer-name comparison costs tens of milliseconds per member in
    a large district, so a bulk import may pass `khmer_similarity=False`. Flushes, does not
    commit."""
    if not household_ids:
        return []
    rows = await repository.find_matches(
        session,
        household_ids=household_ids,
        threshold=repository.KHMER_SIMILARITY_THRESHOLD,
        khmer_similarity=khmer_similarity,
    )
    pairs: dict[frozenset, dict[str, Any]] = {}
    wanted = set(household_ids)
    for row in rows:
        key = frozenset((row["household_id"], row["other_household_id"]))
        newer_first = row["household_id"] in wanted and (
            row["other_household_id"] not in wanted or row["created_at"] >= row["other_created_at"]
        )
        if key not in pairs:
            if newer_first:
                pair = (row["household_id"], row["village_code"])
                other = (row["other_household_id"], row["other_village_code"])
            else:
                pair = (row["other_household_id"], row["other_village_code"])
                other = (row["household_id"], row["village_code"])
            pairs[key] = {
                "id": uuid.uuid4(),
                "household_id": pair[0],
                "village_code": pair[1],
                "other_household_id": other[0],
                "other_village_code": other[1],
                "matches": [],
                "flagged_by": principal.sub,
            }
        entry = pairs[key]
        match = (
            {"member_id": row["member_id"], "other_member_id": row["other_member_id"]}
            if row["household_id"] == entry["household_id"]
            else {"member_id": row["other_member_id"], "other_member_id": row["member_id"]}
        )
        match = {"reason": row["reason"], **match, "score": row["score"]}
        if match not in entry["matches"]:
            entry["matches"].append(match)
    candidates = []
    for entry in pairs.values():
        matches = entry["matches"]
        scores = [m["score"] for m in matches if m["score"] is not None]
        members: list[uuid.UUID] = []
        for m in matches:
            for member_id in (m["member_id"], m["other_member_id"]):
                if member_id not in members:
                    members.append(member_id)
        candidates.append(
            {
                **entry,
                "matches": [
                    {
                        **m,
                        "member_id": str(m["member_id"]),
                        "other_member_id": str(m["other_member_id"]),
                    }
                    for m in matches
                ],
                "member_ids": members,
                "reasons": sorted({m["reason"] for m in matches}),
                "khmer_name_score": round(max(scores), 3) if scores else None,
            }
        )
    flagged = await repository.add_candidates(session, candidates)
    for candidate in flagged:
        await emit_candidate(session, candidate, DuplicateFlagged)
    await session.flush()
    return flagged


# --- review -----------------------------------------------------------------------------------


def _side(household: Household, members: list[Member], *, principal: Principal) -> dict[str, Any]:
    shown = roles.SENSITIVE_READER.allows(principal) and principal.covers(household.village_code)
    return {
        "id": household.id,
        "code": household.code,
        "village_code": household.village_code,
        "address": household.address,
        "status": household.status,
        "head_member_id": household.head_member_id,
        "poverty_level": household.poverty_level,
        "created_at": household.created_at,
        "sensitive_fields_shown": shown,
        "members": [
            {
                "id": m.id,
                "family_name_km": m.family_name_km,
                "given_name_km": m.given_name_km,
                "family_name_latin": m.family_name_latin,
                "given_name_latin": m.given_name_latin,
                "sex": m.sex,
                "birth_date": m.birth_date,
                "birth_date_estimated": m.birth_date_estimated,
                "relationship": m.relationship,
                "status": m.status,
                "national_id": m.national_id if shown else mask_value(NATIONAL_ID, m.national_id),
                "phone": m.phone if shown else mask_value(PHONE, m.phone),
                "disability_severity": m.disability_severity,
            }
            for m in members
            if m.household_id == household.id
        ],
    }


async def read_candidate(
    session: AsyncSession, *, principal: Principal, candidate_id: uuid.UUID
) -> dict[str, Any]:
    """Both households side by side (404 outside the caller's area). National ID and phone
    are shown in full only to registry officers and verifiers whose area holds that
    household; others see the last three characters. The read is audit-logged."""
    candidate = await repository.visible_candidate(session, principal, candidate_id)
    if candidate is None:
        raise Problem.not_found("The duplicate candidate")
    shown = disclosure.summary_for(principal, candidate)
    # Only the households in the caller's area are read at all; the other stays withheld.
    ids = [h for h in (shown["household_id"], shown["other_household_id"]) if h is not None]
    found = await repository.households(session, ids)
    members = await repository.members(session, ids)
    sides = {h: _side(found[h], members, principal=principal) for h in ids}
    for side in sides.values():
        record_access(
            session,
            principal=principal,
            entity="household",
            entity_id=side["id"],
            household_id=side["id"],
            sensitive_fields=side["sensitive_fields_shown"],
            purpose="registry_get_duplicate",
        )
    await session.flush()
    return {
        **shown,
        "household": sides.get(shown["household_id"]),
        "other_household": sides.get(shown["other_household_id"]),
    }


def _require_reviewer(principal: Principal, candidate: DuplicateCandidate) -> None:
    roles.DUPLICATE_REVIEWER.check(principal)
    for code in (candidate.village_code, candidate.other_village_code):
        require_in_jurisdiction(principal, code, what="A household of this duplicate pair")


def require_suspected(candidate: DuplicateCandidate) -> None:
    if candidate.status != DuplicateStatus.SUSPECTED:
        raise Problem.conflict(
            f"The candidate is already {candidate.status}.", slug=DUPLICATE_ALREADY_DECIDED
        )


async def candidate_for_decision(
    session: AsyncSession, *, principal: Principal, candidate_id: uuid.UUID
) -> DuplicateCandidate:
    """404 when the caller cannot see it; 403 when the caller may not decide it."""
    if await repository.visible_candidate(session, principal, candidate_id) is None:
        raise Problem.not_found("The duplicate candidate")
    candidate = await repository.candidate_for_update(session, candidate_id)
    assert candidate is not None
    _require_reviewer(principal, candidate)
    return candidate


def decide(
    candidate: DuplicateCandidate, principal: Principal, status: str, reason: str | None
) -> None:
    candidate.status = status
    candidate.reviewer = principal.sub
    candidate.decided_at = clock.now()
    candidate.decision_reason = reason


def record_candidate(
    session: AsyncSession,
    principal: Principal,
    candidate: DuplicateCandidate,
    action: str,
    changes: dict,
) -> None:
    record_change(
        session,
        principal=principal,
        entity="duplicate_candidate",
        entity_id=candidate.id,
        action=action,
        changes=changes,
        household_id=candidate.household_id,
        village_code=candidate.village_code,
    )


async def dismiss(
    session: AsyncSession, *, principal: Principal, candidate: DuplicateCandidate, reason: str
) -> DuplicateCandidate:
    """suspected -> dismissed (409 otherwise). Event DuplicateResolved."""
    require_suspected(candidate)
    decide(candidate, principal, DuplicateStatus.DISMISSED, reason)
    await session.flush()
    record_candidate(
        session,
        principal,
        candidate,
        "dismissed",
        {"status": {"from": "suspected", "to": "dismissed"}, "reason": reason},
    )
    await emit_candidate(session, candidate, DuplicateResolved)
    await session.flush()
    return candidate
