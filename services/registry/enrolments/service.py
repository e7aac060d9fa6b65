"""Enrolment rules: who may propose and decide, the life cycle, and the eligibility check.

A commune officer proposes a household (or member) for a programme; the proposal is checked
against the programme's rules at once and is either `proposed` or `rejected` with the failing
rules and a snapshot of what was evaluated. A verifier at the district or above approves it
(the rules are checked again on that day), suspends, resumes or exits it.

`propose_enrolment`, `approve_enrolment` and `exit_enrolment` are also what the change-request
engine calls for its "enrol" and "exit" changes; they take the principal who applies the
change and check the same rules.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import roles
from services.registry.audit import record_access, record_change
from services.registry.enrolments import repository
from services.registry.enrolments.models import Enrolment, EnrolmentStatus
from services.registry.households.models import Household, HouseholdStatus, Member
from services.registry.programmes import service as programmes
from services.registry.programmes.eligibility import (
    Eligibility,
    HouseholdFacts,
    MemberFacts,
    evaluate,
    evaluate_member,
    failing_codes,
)
from services.registry.programmes.models import Programme
from services.registry.programmes.rules import parse_rules
from shared import clock
from shared.events.catalog.registry import (
    EnrolmentEnrolled,
    EnrolmentEvent,
    EnrolmentExited,
    EnrolmentProposed,
    EnrolmentRejected,
    EnrolmentResumed,
    EnrolmentSuspended,
)
from shared.http.pagination import PageParams
from shared.outbox import emit
from shared.principal import Principal
from shared.problems import (
    ENROLMENT_EXISTS,
    INVALID_TRANSITION,
    NOT_ELIGIBLE,
    STALE_VERSION,
    Problem,
)

# --- facts and eligibility ------------------------------------------------------------------


def household_facts(household: Household) -> HouseholdFacts:
    return HouseholdFacts(
        village_code=household.village_code,
        poverty_level=household.poverty_level,
        poverty_valid_until=household.poverty_valid_until,
        vulnerability_categories=tuple(household.vulnerability_categories or ()),
    )


def member_facts(member: Member) -> MemberFacts:
    return MemberFacts(
        id=member.id,
        sex=member.sex,
        birth_date=member.birth_date,
        status=member.status,
        pregnant=member.pregnant,
        pregnancy_expected_on=member.pregnancy_expected_on,
        disability_severity=member.disability_severity,
        school_enrolment=member.school_enrolment,
    )


def _evaluate(
    programme: Programme,
    household: Household,
    members: list[Member],
    member_id: uuid.UUID | None,
    on: date,
) -> Eligibility:
    rule = parse_rules(programme.eligibility)
    facts = household_facts(household)
    people = [member_facts(m) for m in members]
    if member_id is not None:
        return evaluate_member(rule, household=facts, members=people, member_id=member_id, on=on)
    return evaluate(rule, target=programme.target, household=facts, members=people, on=on)


def snapshot(
    programme: Programme,
    household: Household,
    members: list[Member],
    result: Eligibility,
    on: date,
) -> dict[str, Any]:
    """What was evaluated and what came out, as stored on the enrolment (JSON)."""
    return {
        "evaluated_on": on.isoformat(),
        "programme": {
            "code": programme.code,
            "version": programme.version,
            "target": programme.target,
            "rules": programme.eligibility,
        },
        "household": {
            "village_code": household.village_code,
            "status": household.status,
            "poverty_level": household.poverty_level,
            "poverty_valid_until": (
                household.poverty_valid_until.isoformat() if household.poverty_valid_until else None
            ),
            "vulnerability_categories": list(household.vulnerability_categories or []),
        },
        "members": [
            {
                "member_id": str(m.id),
                "status": m.status,
                "sex": m.sex,
                "birth_date": m.birth_date.isoformat(),
                "pregnant": m.pregnant,
                "disability_severity": m.disability_severity,
                "school_enrolment": m.school_enrolment,
            }
            for m in members
        ],
        "eligible": result.eligible,
        "outcome": result.outcome.as_dict(),
        "qualifying_member_ids": [str(m) for m in result.qualifying_member_ids],
    }


async def household_eligibility(
    session: AsyncSession, *, principal: Principal, household_id: uuid.UUID, on: date | None
) -> tuple[Household, date, list[tuple[Programme, Eligibility]]]:
    """Every active programme's verdict for a household the principal can see (404 if not)."""
    household = await repository.get_visible_household(session, principal, household_id)
    if household is None:
        raise Problem.not_found("The household")
    on = on or clock.today()
    members = await repository.members_of(session, household.id)
    results = [
        (programme, _evaluate(programme, household, members, None, on))
        for programme in await programmes.active_programmes(session)
    ]
    if principal.tier is not None:
        record_access(
            session,
            principal=principal,
            entity="household",
            entity_id=household.id,
            household_id=household.id,
            sensitive_fields=False,
            purpose="registry_get_household_eligibility",
        )
    return household, on, results


# --- reading --------------------------------------------------------------------------------


async def get_enrolment(
    session: AsyncSession, *, principal: Principal, enrolment_id: uuid.UUID, log_access: bool
) -> tuple[Enrolment, Household]:
    found = await repository.get_visible_enrolment(session, principal, enrolment_id)
    if found is None:
        raise Problem.not_found("The enrolment")
    if log_access and principal.tier is not None:
        record_access(
            session,
            principal=principal,
            entity="enrolment",
            entity_id=enrolment_id,
            household_id=found[1].id,
            sensitive_fields=False,
            purpose="registry_get_enrolment",
        )
    return found


async def list_enrolments(
    session: AsyncSession,
    *,
    principal: Principal,
    programme_code: str | None,
    status: str | None,
    location_code: str | None,
    page: PageParams,
) -> tuple[list[tuple[Enrolment, Household]], str | None]:
    rows, next_cursor = await repository.page_of_enrolments(
        session,
        principal,
        programme_code=programme_code,
        status=status,
        location_code=location_code,
        page=page,
    )
    households = await repository.households_by_id(session, {e.household_id for e in rows})
    return [(e, households[e.household_id]) for e in rows], next_cursor


async def household_enrolments(
    session: AsyncSession, *, principal: Principal, household_id: uuid.UUID
) -> tuple[Household, list[Enrolment]]:
    household = await repository.get_visible_household(session, principal, household_id)
    if household is None:
        raise Problem.not_found("The household")
    if principal.tier is not None:
        record_access(
            session,
            principal=principal,
            entity="household",
            entity_id=household.id,
            household_id=household.id,
            sensitive_fields=False,
            purpose="registry_list_household_enrolments",
        )
    return household, await repository.household_enrolments(session, household.id)


# --- proposing ------------------------------------------------------------------------------


def _event_fields(enrolment: Enrolment, household: Household) -> dict[str, Any]:
    return {
        "enrolment_id": enrolment.id,
        "programme_code": enrolment.programme_code,
        "household_id": enrolment.household_id,
        "member_id": enrolment.member_id,
        "village_code": household.village_code,
        "status": enrolment.status,
        "record_version": enrolment.version,
    }


async def _emit(session: AsyncSession, event: EnrolmentEvent, household: Household) -> None:
    await emit(session, event, subject=event.enrolment_id, jurisdiction=household.village_code)


async def propose_enrolment(
    session: AsyncSession,
    *,
    principal: Principal,
    household_id: uuid.UUID,
    programme_code: str,
    member_id: uuid.UUID | None = None,
    on: date | None = None,
) -> Enrolment:
    """Propose a household (or member) for a programme: `proposed` when the rules pass on
    `on` (today by default), `rejected` with the failing rules otherwise. Either way the
    enrolment is stored with its eligibility snapshot and an event."""
    roles.ENROLMENT_PROPOSER.check(principal)
    programme = await programmes.find_programme(session, code=programme_code)
    if programme is None:
        raise Problem.invalid("programme_code", f"there is no programme {programme_code}")
    household = await repository.get_household(session, household_id)
    if household is None:
        raise Problem.invalid("household_id", "there is no such household")
    if not principal.covers(household.village_code):
        raise Problem.forbidden(
            f"Household {household.code} at {household.village_code} is outside your "
            f"jurisdiction ({principal.admin_code or 'none'})."
        )
    if not programme.active:
        raise Problem.conflict(f"Programme {programme.code} is not active.")
    if household.status != HouseholdStatus.ACTIVE:
        raise Problem.conflict(
            f"Household {household.code} is {household.status}: only active (verified) "
            "households can be enrolled."
        )
    members = await repository.members_of(session, household.id)
    if programme.target == "individual":
        if member_id is None:
            raise Problem.invalid(
                "member_id", f"programme {programme.code} targets individuals: name the member"
            )
        member = next((m for m in members if m.id == member_id), None)
        if member is None:
            raise Problem.invalid("member_id", "not a member of this household")
        if member.status != "active":
            raise Problem.conflict(f"The member is {member.status}, not active.")
    elif member_id is not None:
        raise Problem.invalid(
            "member_id", f"programme {programme.code} targets households: leave member_id out"
        )
    existing = await repository.live_enrolment(
        session, programme_code=programme.code, household_id=household.id, member_id=member_id
    )
    if existing is not None:
        raise _already_live(existing)

    on = on or clock.today()
    result = _evaluate(programme, household, members, member_id, on)
    failing = failing_codes(result.failing())
    enrolment = Enrolment(
        programme_code=programme.code,
        household_id=household.id,
        member_id=member_id,
        status=EnrolmentStatus.PROPOSED if result.eligible else EnrolmentStatus.REJECTED,
        status_reason=None if result.eligible else "not eligible: " + "; ".join(failing),
        eligibility=snapshot(programme, household, members, result, on),
        failing_rules=failing,
        proposed_by=principal.sub,
        decided_at=None if result.eligible else clock.now(),
        decided_by=None if result.eligible else "eligibility rules",
        created_by=principal.sub,
        updated_by=principal.sub,
    )
    try:
        await repository.insert(session, enrolment)
    except repository.LiveEnrolmentExists:
        raise Problem.conflict(
            f"A live enrolment in {programme.code} already exists for this "
            + ("member." if member_id else "household."),
            slug=ENROLMENT_EXISTS,
        ) from None
    record_change(
        session,
        principal=principal,
        entity="enrolment",
        entity_id=enrolment.id,
        action="proposed" if result.eligible else "rejected",
        changes={
            "programme_code": programme.code,
            "member_id": str(member_id) if member_id else None,
            "status": enrolment.status,
            "failing_rules": failing,
        },
        household_id=household.id,
        village_code=household.village_code,
    )
    fields = _event_fields(enrolment, household)
    if result.eligible:
        await _emit(session, EnrolmentProposed(**fields), household)
    else:
        await _emit(session, EnrolmentRejected(**fields, failing_rules=failing), household)
    return enrolment


def _already_live(existing: Enrolment) -> Problem:
    problem = Problem.conflict(
        f"This {'member' if existing.member_id else 'household'} already has a "
        f"{existing.status} enrolment in {existing.programme_code} ({existing.id}).",
        slug=ENROLMENT_EXISTS,
    )
    problem.extra["existing_enrolment_id"] = str(existing.id)
    return problem


# --- deciding -------------------------------------------------------------------------------

# action -> (statuses it starts from, status it leads to)
TRANSITIONS: dict[str, tuple[tuple[EnrolmentStatus, ...], EnrolmentStatus]] = {
    "approve": ((EnrolmentStatus.PROPOSED,), EnrolmentStatus.ENROLLED),
    "reject": ((EnrolmentStatus.PROPOSED,), EnrolmentStatus.REJECTED),
    "suspend": ((EnrolmentStatus.ENROLLED,), EnrolmentStatus.SUSPENDED),
    "resume": ((EnrolmentStatus.SUSPENDED,), EnrolmentStatus.ENROLLED),
    "exit": ((EnrolmentStatus.ENROLLED, EnrolmentStatus.SUSPENDED), EnrolmentStatus.EXITED),
}


async def _for_decision(
    session: AsyncSession,
    principal: Principal,
    enrolment_id: uuid.UUID,
    action: str,
    expected_version: int | None,
) -> tuple[Enrolment, Household]:
    found = await repository.get_visible_enrolment(session, principal, enrolment_id)
    if found is None:
        raise Problem.not_found("The enrolment")
    roles.enrolment_decider(action).check(principal)
    enrolment, household = found
    if expected_version is not None and enrolment.version != expected_version:
        raise Problem(
            412,
            f"The enrolment is at version {enrolment.version}; fetch it again.",
            slug=STALE_VERSION,
        )
    allowed_from, _ = TRANSITIONS[action]
    if enrolment.status not in allowed_from:
        raise Problem.conflict(
            f"An enrolment that is {enrolment.status} cannot be {_PAST[action]} "
            f"(only from {' or '.join(allowed_from)}).",
            slug=INVALID_TRANSITION,
        )
    return enrolment, household


_PAST = {
    "approve": "approved",
    "reject": "rejected",
    "suspend": "suspended",
    "resume": "resumed",
    "exit": "exited",
}


async def _apply(
    session: AsyncSession,
    *,
    principal: Principal,
    enrolment: Enrolment,
    household: Household,
    action: str,
    reason: str | None,
    extra_changes: dict[str, Any] | None = None,
) -> None:
    before = enrolment.status
    enrolment.status = TRANSITIONS[action][1]
    enrolment.status_reason = reason
    enrolment.updated_at = clock.now()
    enrolment.updated_by = principal.sub
    await session.flush()
    record_change(
        session,
        principal=principal,
        entity="enrolment",
        entity_id=enrolment.id,
        action=_PAST[action],
        changes={
            "status": {"from": before, "to": enrolment.status},
            **({"reason": reason} if reason else {}),
            **(extra_changes or {}),
        },
        household_id=household.id,
        village_code=household.village_code,
    )


async def approve_enrolment(
    session: AsyncSession,
    *,
    principal: Principal,
    enrolment_id: uuid.UUID,
    expected_version: int | None = None,
    on: date | None = None,
) -> Enrolment:
    """proposed -> enrolled, if the household is still active and still eligible today
    (409 with the failing rules otherwise; nothing changes)."""
    enrolment, household = await _for_decision(
        session, principal, enrolment_id, "approve", expected_version
    )
    if household.status != HouseholdStatus.ACTIVE:
        raise Problem.conflict(
            f"Household {household.code} is {household.status}: only active households can be "
            "enrolled."
        )
    programme = await programmes.get_programme(session, code=enrolment.programme_code)
    members = await repository.members_of(session, household.id)
    on = on or clock.today()
    result = _evaluate(programme, household, members, enrolment.member_id, on)
    if not result.eligible:
        failing = failing_codes(result.failing())
        problem = Problem.conflict(
            "The household no longer meets the programme's rules: " + "; ".join(failing),
            slug=NOT_ELIGIBLE,
        )
        problem.extra["failing_rules"] = failing
        raise problem
    enrolment.eligibility = snapshot(programme, household, members, result, on)
    enrolment.decided_at = clock.now()
    enrolment.decided_by = principal.sub
    enrolment.enrolled_on = on
    await _apply(
        session,
        principal=principal,
        enrolment=enrolment,
        household=household,
        action="approve",
        reason=None,
        extra_changes={"enrolled_on": on.isoformat()},
    )
    await _emit(session, EnrolmentEnrolled(**_event_fields(enrolment, household)), household)
    return enrolment


async def reject_enrolment(
    session: AsyncSession,
    *,
    principal: Principal,
    enrolment_id: uuid.UUID,
    reason: str,
    expected_version: int | None = None,
) -> Enrolment:
    """proposed -> rejected by the verifier's decision."""
    enrolment, household = await _for_decision(
        session, principal, enrolment_id, "reject", expected_version
    )
    await _reject(session, principal, enrolment, household, reason)
    return enrolment


async def _reject(
    session: AsyncSession,
    principal: Principal,
    enrolment: Enrolment,
    household: Household,
    reason: str,
) -> None:
    enrolment.decided_at = clock.now()
    enrolment.decided_by = principal.sub
    await _apply(
        session,
        principal=principal,
        enrolment=enrolment,
        household=household,
        action="reject",
        reason=reason,
    )
    await _emit(
        session,
        EnrolmentRejected(**_event_fields(enrolment, household), failing_rules=[], reason=reason),
        household,
    )


async def suspend_enrolment(
    session: AsyncSession,
    *,
    principal: Principal,
    enrolment_id: uuid.UUID,
    reason: str,
    expected_version: int | None = None,
) -> Enrolment:
    enrolment, household = await _for_decision(
        session, principal, enrolment_id, "suspend", expected_version
    )
    await _apply(
        session,
        principal=principal,
        enrolment=enrolment,
        household=household,
        action="suspend",
        reason=reason,
    )
    await _emit(
        session,
        EnrolmentSuspended(**_event_fields(enrolment, household), reason=reason),
        household,
    )
    return enrolment


async def resume_enrolment(
    session: AsyncSession,
    *,
    principal: Principal,
    enrolment_id: uuid.UUID,
    expected_version: int | None = None,
) -> Enrolment:
    enrolment, household = await _for_decision(
        session, principal, enrolment_id, "resume", expected_version
    )
    await _apply(
        session,
        principal=principal,
        enrolment=enrolment,
        household=household,
        action="resume",
        reason=None,
    )
    await _emit(session, EnrolmentResumed(**_event_fields(enrolment, household)), household)
    return enrolment


async def exit_enrolment(
    session: AsyncSession,
    *,
    principal: Principal,
    enrolment_id: uuid.UUID,
    reason: str,
    expected_version: int | None = None,
    on: date | None = None,
) -> Enrolment:
    """enrolled or suspended -> exited (the household or member leaves the programme)."""
    enrolment, household = await _for_decision(
        session, principal, enrolment_id, "exit", expected_version
    )
    await _exit(session, principal, enrolment, household, reason, on or clock.today())
    return enrolment


async def _exit(
    session: AsyncSession,
    principal: Principal,
    enrolment: Enrolment,
    household: Household,
    reason: str,
    on: date,
) -> None:
    enrolment.exited_on = on
    await _apply(
        session,
        principal=principal,
        enrolment=enrolment,
        household=household,
        action="exit",
        reason=reason,
        extra_changes={"exited_on": on.isoformat()},
    )
    await _emit(
        session, EnrolmentExited(**_event_fields(enrolment, household), reason=reason), household
    )


async def end_live_enrolments(
    session: AsyncSession,
    *,
    principal: Principal,
    household: Household,
    reason: str,
    member_id: uuid.UUID | None = None,
    on: date | None = None,
) -> list[Enrolment]:
    """What leaving does to programmes, in the caller's transaction: when a household is
    dissolved (or merged away), every live enrolment of it ends; when a member leaves
    (deceased, moved out, recorded in error), that member's do. Enrolled and suspended ones
    are exited on `on` (today); proposed ones are rejected, since there is nobody left to
    decide on. Each change is in history with `reason` and emits its event, as if a verifier
    had done it; the caller has already checked that `principal` may make the change that
    causes this. Household-level enrolments whose rules counted the departed member stay:
    the eligibility check shows what the household qualifies for now."""
    ended = []
    for enrolment in await repository.live_enrolments_of(
        session, household.id, member_id=member_id
    ):
        if enrolment.status == EnrolmentStatus.PROPOSED:
            await _reject(session, principal, enrolment, household, reason)
        else:
            await _exit(session, principal, enrolment, household, reason, on or clock.today())
        ended.append(enrolment)
    return ended
