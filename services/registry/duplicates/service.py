"""Duplicate households: flagging likely duplicates when households are registered or
imported, and the review that confirms (merging the two) or dismisses them.

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
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import roles
from services.registry.duplicates import disclosure, repository
from services.registry.duplicates.models import DuplicateCandidate, DuplicateStatus
from services.registry.duplicates.schemas import ConfirmDuplicate
from services.registry.enrolments.models import LIVE_STATUSES, EnrolmentStatus
from services.registry.history import record_access, record_change
from services.registry.households import service as households
from services.registry.households.models import Household, Member, MemberStatus
from shared import clock
from shared.events.catalog.registry import (
    DuplicateFlagged,
    DuplicateResolved,
    EnrolmentExited,
    HouseholdUpdated,
    MemberRemoved,
    MemberUpdated,
)
from shared.jurisdiction import require_in_jurisdiction
from shared.masking import NATIONAL_ID, PHONE, mask_value
from shared.outbox import emit
from shared.principal import Principal
from shared.problems import DUPLICATE_ALREADY_DECIDED, HOUSEHOLD_CLOSED, Problem, field_error


async def _emit_candidate(session: AsyncSession, candidate: DuplicateCandidate, event_type) -> None:
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
        await _emit_candidate(session, candidate, DuplicateFlagged)
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


def _require_suspected(candidate: DuplicateCandidate) -> None:
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


def _decide(
    candidate: DuplicateCandidate, principal: Principal, status: str, reason: str | None
) -> None:
    candidate.status = status
    candidate.reviewer = principal.sub
    candidate.decided_at = clock.now()
    candidate.decision_reason = reason


def _record_candidate(
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
    _require_suspected(candidate)
    _decide(candidate, principal, DuplicateStatus.DISMISSED, reason)
    await session.flush()
    _record_candidate(
        session,
        principal,
        candidate,
        "dismissed",
        {"status": {"from": "suspected", "to": "dismissed"}, "reason": reason},
    )
    await _emit_candidate(session, candidate, DuplicateResolved)
    await session.flush()
    return candidate


def _member_event_fields(member: Member) -> dict[str, Any]:
    return {
        "member_id": member.id,
        "household_id": member.household_id,
        "village_code": member.village_code,
        "record_version": member.version,
    }


def _json(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def _identical_pairs(
    candidate: DuplicateCandidate,
    body: ConfirmDuplicate,
    *,
    dissolved: Household,
    survivor: Household,
    members: dict[uuid.UUID, Member],
) -> dict[uuid.UUID, uuid.UUID]:
    """{member of the dissolved household: the same person in the survivor}; 422 naming
    the field when a pair does not fit."""
    if body.identical_members is None:
        pairs: dict[uuid.UUID, uuid.UUID] = {}
        for match in candidate.matches:
            a, b = uuid.UUID(match["member_id"]), uuid.UUID(match["other_member_id"])
            if members[a].household_id == survivor.id:
                a, b = b, a
            if a not in pairs and b not in pairs.values():
                pairs[a] = b
        return {
            a: b
            for a, b in pairs.items()
            if members[a].status == MemberStatus.ACTIVE and members[b].status == MemberStatus.ACTIVE
        }
    pairs = {}
    for index, pair in enumerate(body.identical_members):
        duplicate = members.get(pair.member_id)
        original = members.get(pair.same_as_member_id)
        if duplicate is None or duplicate.household_id != dissolved.id:
            raise Problem(
                422,
                "identical_members: the member is not in the household being dissolved.",
                errors=[
                    field_error(
                        ["identical_members", index, "member_id"],
                        "not a member of the dissolved household",
                    )
                ],
            )
        if original is None or original.household_id != survivor.id:
            raise Problem(
                422,
                "identical_members: the member is not in the surviving household.",
                errors=[
                    field_error(
                        ["identical_members", index, "same_as_member_id"],
                        "not a member of the surviving household",
                    )
                ],
            )
        if duplicate.id in pairs or original.id in pairs.values():
            raise Problem(
                422,
                "identical_members: a member appears twice.",
                errors=[field_error(["identical_members", index], "a member appears twice")],
            )
        pairs[duplicate.id] = original.id
    return pairs


async def confirm(
    session: AsyncSession,
    *,
    principal: Principal,
    candidate: DuplicateCandidate,
    body: ConfirmDuplicate,
) -> DuplicateCandidate:
    """suspected -> confirmed, merging the other household into the surviving one (see the
    module docstring). 409 when already decided or when a household is already closed.
    Events: MemberRemoved / MemberUpdated per member, HouseholdDissolved, HouseholdUpdated
    (survivor), DuplicateResolved."""
    _require_suspected(candidate)
    pair = (candidate.household_id, candidate.other_household_id)
    if body.surviving_household_id not in pair:
        raise Problem.invalid("surviving_household_id", "must be one of the two households")
    found = await repository.households(session, pair, lock=True)
    survivor = found[body.surviving_household_id]
    dissolved = found[pair[1] if pair[0] == survivor.id else pair[0]]
    for household in (survivor, dissolved):
        if household.status in households.CLOSED:
            raise Problem.conflict(
                f"Household {household.code} is {household.status}; the pair cannot be merged.",
                slug=HOUSEHOLD_CLOSED,
            )
    members = {m.id: m for m in await repository.members(session, pair)}
    identical = _identical_pairs(
        candidate, body, dissolved=dissolved, survivor=survivor, members=members
    )
    now = clock.now()
    summary: dict[str, Any] = {"identical": [], "moved": [], "enrolments": []}

    for duplicate_id, original_id in identical.items():
        duplicate, original = members[duplicate_id], members[original_id]
        filled = {}
        for name in ("national_id", "phone", "disability_severity", "disability_card_number"):
            if getattr(original, name) is None and getattr(duplicate, name) is not None:
                filled[name] = {"from": None, "to": getattr(duplicate, name)}
                setattr(original, name, getattr(duplicate, name))
        if filled:
            original.updated_at, original.updated_by = now, principal.sub
            await session.flush()
            record_change(
                session,
                principal=principal,
                entity="member",
                entity_id=original.id,
                action="merged_from_duplicate",
                changes={**filled, "duplicate_member_id": str(duplicate.id)},
                household_id=survivor.id,
                village_code=survivor.village_code,
            )
            await emit(
                session,
                MemberUpdated(**_member_event_fields(original), changed_fields=sorted(filled)),
                subject=original.id,
                jurisdiction=original.village_code,
            )
        before = duplicate.status
        duplicate.status = MemberStatus.REMOVED
        duplicate.status_reason = f"duplicate of member {original.id}"
        duplicate.updated_at, duplicate.updated_by = now, principal.sub
        await session.flush()
        record_change(
            session,
            principal=principal,
            entity="member",
            entity_id=duplicate.id,
            action="removed",
            changes={
                "status": {"from": before, "to": MemberStatus.REMOVED},
                "reason": "duplicate",
                "same_as_member_id": str(original.id),
            },
            household_id=dissolved.id,
            village_code=dissolved.village_code,
        )
        await emit(
            session,
            MemberRemoved(**_member_event_fields(duplicate), reason="error"),
            subject=duplicate.id,
            jurisdiction=duplicate.village_code,
        )
        summary["identical"].append(
            {"member_id": str(duplicate.id), "same_as_member_id": str(original.id)}
        )

    for member in members.values():
        if member.household_id != dissolved.id or member.status != MemberStatus.ACTIVE:
            continue
        changes = {
            "household_id": {"from": str(dissolved.id), "to": str(survivor.id)},
            "village_code": {"from": member.village_code, "to": survivor.village_code},
        }
        if member.relationship == "head":
            changes["relationship"] = {"from": "head", "to": "other_relative"}
            member.relationship = "other_relative"
        member.household_id = survivor.id
        member.village_code = survivor.village_code
        member.updated_at, member.updated_by = now, principal.sub
        await session.flush()
        record_change(
            session,
            principal=principal,
            entity="member",
            entity_id=member.id,
            action="moved_by_merge",
            changes=changes,
            household_id=survivor.id,
            village_code=survivor.village_code,
        )
        await emit(
            session,
            MemberUpdated(**_member_event_fields(member), changed_fields=sorted(changes)),
            subject=member.id,
            jurisdiction=member.village_code,
        )
        summary["moved"].append(str(member.id))

    summary["enrolments"] = await _repoint_enrolments(
        session, principal=principal, dissolved=dissolved, survivor=survivor, identical=identical
    )

    await households.dissolve_household(
        session,
        principal=principal,
        household=dissolved,
        reason=f"merged as a duplicate (candidate {candidate.id})",
        merged_into=survivor.id,
    )
    survivor.updated_at, survivor.updated_by = now, principal.sub
    await session.flush()
    record_change(
        session,
        principal=principal,
        entity="household",
        entity_id=survivor.id,
        action="merged",
        changes={
            "merged_household_id": str(dissolved.id),
            "candidate_id": str(candidate.id),
            **summary,
        },
        household_id=survivor.id,
        village_code=survivor.village_code,
    )
    await emit(
        session,
        HouseholdUpdated(
            household_id=survivor.id,
            household_code=survivor.code,
            village_code=survivor.village_code,
            status=survivor.status,
            record_version=survivor.version,
            changed_fields=["members"],
        ),
        subject=survivor.id,
        jurisdiction=survivor.village_code,
    )
    _decide(candidate, principal, DuplicateStatus.CONFIRMED, body.reason)
    candidate.surviving_household_id = survivor.id
    candidate.merge_summary = summary
    await session.flush()
    _record_candidate(
        session,
        principal,
        candidate,
        "confirmed",
        {
            "status": {"from": "suspected", "to": "confirmed"},
            "surviving_household_id": str(survivor.id),
            "dissolved_household_id": str(dissolved.id),
        },
    )
    await _emit_candidate(session, candidate, DuplicateResolved)
    await session.flush()
    return candidate


async def _repoint_enrolments(
    session: AsyncSession,
    *,
    principal: Principal,
    dissolved: Household,
    survivor: Household,
    identical: dict[uuid.UUID, uuid.UUID],
) -> list[dict[str, Any]]:
    live = {s.value for s in LIVE_STATUSES}
    taken = await repository.live_enrolment_keys(session, survivor.id)
    moved = []
    for enrolment in await repository.enrolments_of(session, dissolved.id):
        member_id = identical.get(enrolment.member_id, enrolment.member_id)
        key = (enrolment.programme_code, member_id)
        exited = False
        if enrolment.status in live and key in taken:
            # The survivor is already in this programme: keep one live enrolment.
            enrolment.status = EnrolmentStatus.EXITED
            enrolment.status_reason = f"merged into household {survivor.code}"
            enrolment.exited_on = clock.now().date()
            exited = True
        elif enrolment.status in live:
            taken.add(key)
        changes = {
            "household_id": {"from": str(dissolved.id), "to": str(survivor.id)},
            "member_id": {"from": _json(enrolment.member_id), "to": _json(member_id)},
        }
        if exited:
            changes["status"] = {"from": "live", "to": "exited"}
        enrolment.household_id = survivor.id
        enrolment.member_id = member_id
        enrolment.updated_at, enrolment.updated_by = clock.now(), principal.sub
        await session.flush()
        record_change(
            session,
            principal=principal,
            entity="enrolment",
            entity_id=enrolment.id,
            action="moved_by_merge",
            changes=changes,
            household_id=survivor.id,
            village_code=survivor.village_code,
        )
        if exited:
            await emit(
                session,
                EnrolmentExited(
                    enrolment_id=enrolment.id,
                    programme_code=enrolment.programme_code,
                    household_id=survivor.id,
                    member_id=member_id,
                    village_code=survivor.village_code,
                    status="exited",
                    record_version=enrolment.version,
                    reason=enrolment.status_reason,
                ),
                subject=enrolment.id,
                jurisdiction=survivor.village_code,
            )
        moved.append({"enrolment_id": str(enrolment.id), "exited": exited})
    return moved
