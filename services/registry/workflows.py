"""The registry's cross-aggregate steps: what one action does to households, members,
enrolments and duplicate candidates together, in the caller's session (flush, never commit).

    register_household   the household (households) and its likely duplicates flagged
                         for review (duplicates)
    remove_member        the member leaves (households) and their live enrolments end
                         (enrolments)
    dissolve_household   the household is dissolved (households) and its live enrolments end
                         (enrolments)
    confirm_duplicate    a suspected duplicate pair merged: members moved or merged, the
                         enrolments re-pointed (enrolments), the other household dissolved,
                         the candidate decided (duplicates)

The aggregates' services do not call each other: routes, change requests, the import and
the demo data call these steps, so the packages import in one direction only (workflows
above duplicates and enrolments, those above households, households above the audit trail;
see the import-linter contracts in pyproject.toml).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.audit import record_change
from services.registry.duplicates import repository as duplicates_repository
from services.registry.duplicates import service as duplicates
from services.registry.duplicates.models import DuplicateCandidate, DuplicateStatus
from services.registry.duplicates.schemas import ConfirmDuplicate
from services.registry.enrolments.models import LIVE_STATUSES, EnrolmentStatus
from services.registry.enrolments.service import end_live_enrolments
from services.registry.households import service as households
from services.registry.households.models import Household, Member, MemberStatus
from services.registry.households.permissions import CLOSED
from services.registry.households.schemas import HouseholdCreate, MemberRemovalReason
from shared import clock
from shared.events.catalog.registry import (
    DuplicateResolved,
    EnrolmentExited,
    HouseholdUpdated,
    MemberRemoved,
    MemberUpdated,
)
from shared.outbox import emit
from shared.principal import Principal
from shared.problems import HOUSEHOLD_CLOSED, Problem, field_error


async def register_household(
    session: AsyncSession,
    *,
    principal: Principal,
    data: HouseholdCreate,
    origin: Literal["api", "import", "change_request"] = "api",
) -> Household:
    """Register a household (households.service.register_household), then flag its likely
    duplicates (same national ID, phone, Latin name + birth date + commune, or a similar
    Khmer name) instead of silently creating them: the household is still created, pending
    verification, and its candidates are listed at GET /households/{id}/duplicates."""
    household = await households.register_household(
        session, principal=principal, data=data, origin=origin
    )
    await duplicates.flag_duplicates(session, household_ids=[household.id], principal=principal)
    return household


async def remove_member(
    session: AsyncSession,
    *,
    principal: Principal,
    household: Household,
    member: Member,
    reason: MemberRemovalReason,
    note: str | None = None,
) -> Member:
    """A member leaves (households.service.remove_member) and their live enrolments end
    (exited, or rejected if only proposed). Events MemberRemoved, and
    EnrolmentExited/EnrolmentRejected per enrolment ended."""
    await households.remove_member(
        session, principal=principal, household=household, member=member, reason=reason,
        note=note,
    )  # fmt: skip
    await end_live_enrolments(
        session,
        principal=principal,
        household=household,
        member_id=member.id,
        reason=f"member left the household ({reason})",
    )
    await session.flush()
    return member


async def dissolve_household(
    session: AsyncSession,
    *,
    principal: Principal,
    household: Household,
    reason: str,
    merged_into: uuid.UUID | None = None,
) -> Household:
    """The household no longer exists (households.service.dissolve_household) and its live
    enrolments end (exited, or rejected if only proposed): benefits are not recorded for a
    household that no longer exists. Events HouseholdDissolved, and
    EnrolmentExited/EnrolmentRejected per enrolment."""
    await households.dissolve_household(
        session, principal=principal, household=household, reason=reason, merged_into=merged_into
    )
    await end_live_enrolments(
        session,
        principal=principal,
        household=household,
        reason=f"{'household merged (duplicate)' if merged_into else 'household dissolved'}: "
        f"{reason}"[:500],
    )
    await session.flush()
    return household


# --- merging a confirmed duplicate (see duplicates.service's docstring) -----------------------


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


async def confirm_duplicate(
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
    duplicates.require_suspected(candidate)
    pair = (candidate.household_id, candidate.other_household_id)
    if body.surviving_household_id not in pair:
        raise Problem.invalid("surviving_household_id", "must be one of the two households")
    found = await duplicates_repository.households(session, pair, lock=True)
    survivor = found[body.surviving_household_id]
    dissolved = found[pair[1] if pair[0] == survivor.id else pair[0]]
    for household in (survivor, dissolved):
        if household.status in CLOSED:
            raise Problem.conflict(
                f"Household {household.code} is {household.status}; the pair cannot be merged.",
                slug=HOUSEHOLD_CLOSED,
            )
    members = {m.id: m for m in await duplicates_repository.members(session, pair)}
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

    await dissolve_household(
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
    duplicates.decide(candidate, principal, DuplicateStatus.CONFIRMED, body.reason)
    candidate.surviving_household_id = survivor.id
    candidate.merge_summary = summary
    await session.flush()
    duplicates.record_candidate(
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
    await duplicates.emit_candidate(session, candidate, DuplicateResolved)
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
    taken = await duplicates_repository.live_enrolment_keys(session, survivor.id)
    moved = []
    for enrolment in await duplicates_repository.enrolments_of(session, dissolved.id):
        member_id = identical.get(enrolment.member_id, enrolment.member_id)
        key = (enrolment.programme_code, member_id)
        exited = False
        if enrolment.status in live and key in taken:
            # The survivor is already in this programme: keep one live enrolment.
            enrolment.status = EnrolmentStatus.EXITED
            enrolment.status_reason = f"merged into household {survivor.code}"
            enrolment.exited_on = clock.today()
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
