"""The rules of a grievance's life: intake, routing, transitions, escalation, timeline.

Functions take the session first and keyword-only arguments, flush, and never commit: the
request (or the consumer's transaction) commits. Every transition is checked against
`TRANSITIONS`; an invalid one is a 409 problem. Every transition adds a timeline entry and
emits its event in the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.grievance import roles, routing
from services.grievance.codes import (
    AWAITING_ACKNOWLEDGEMENT,
    OPEN_STATUSES,
    Decision,
    Status,
    TimelineKind,
)
from services.grievance.grievances import events
from services.grievance.grievances import repository as grievances
from services.grievance.grievances.models import Grievance, PersonalDataAccess, TimelineEntry
from services.grievance.grievances.schemas import GrievanceIntake, IntakeBase
from services.grievance.grievances.tracking_code import new_code
from services.grievance.households import repository as households
from shared.jurisdiction import require_in_jurisdiction
from shared.personal_data import access_record
from shared.principal import Principal
from shared.problems import (
    ALREADY_RATED,
    GRIEVANCE_NOT_OPEN,
    INVALID_TRANSITION,
    REOPEN_PERIOD_ENDED,
    Problem,
)
from shared.tiers import Tier

COMPLAINANT = "complainant"

TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.SUBMITTED: frozenset({Status.ACKNOWLEDGED, Status.REJECTED}),
    Status.REOPENED: frozenset({Status.ACKNOWLEDGED, Status.REJECTED}),
    Status.ACKNOWLEDGED: frozenset({Status.IN_PROGRESS, Status.RESOLVED, Status.REJECTED}),
    Status.IN_PROGRESS: frozenset({Status.RESOLVED, Status.REJECTED}),
    Status.RESOLVED: frozenset({Status.CLOSED, Status.REOPENED}),
    Status.CLOSED: frozenset({Status.REOPENED}),
    Status.REJECTED: frozenset(),
}

REASSESSMENT_CATEGORIES = frozenset({"exclusion_error", "data_correction"})
REASSESSMENT_DECISIONS = frozenset({Decision.UPHELD, Decision.PARTLY_UPHELD})


# --- access -------------------------------------------------------------------------------


def handles(principal: Principal, grievance: Grievance) -> bool:
    """Whether `principal` is a handler of the unit handling `grievance` right now."""
    role = roles.SENSITIVE if grievance.sensitive else roles.HANDLER
    return (
        principal.tier is not None
        and principal.tier.value == grievance.handling_tier
        and principal.admin_code == grievance.handling_admin_code
        and principal.has_role(role)
    )


def identity_visible(principal: Principal, grievance: Grievance) -> bool:
    """Whether a response to `principal` carries the complainant's identity: only the
    handling unit's handlers see it, and an anonymous grievance has none."""
    return not grievance.anonymous and handles(principal, grievance)


async def record_identity_reads(
    session: AsyncSession,
    *,
    principal: Principal,
    grievances_shown: Iterable[Grievance],
    purpose: str,
    now: datetime,
) -> int:
    """Log that `principal` is being shown the complainant identity of these grievances
    (those it may see it on), in the request's transaction; returns how many were logged."""
    records = [
        access_record(
            PersonalDataAccess,
            principal=principal,
            entity="grievance",
            entity_id=grievance.id,
            household_id=grievance.household_id,
            sensitive_fields=True,  # the complainant's phone number goes out with the identity
            purpose=purpose,
            at=now,
        )
        for grievance in grievances_shown
        if identity_visible(principal, grievance)
    ]
    if records:
        grievances.add_access_records(session, records)
        await session.flush()
    return len(records)


def require_handler(principal: Principal, grievance: Grievance) -> None:
    require_in_jurisdiction(principal, grievance.location_code, what="The grievance")
    if grievance.sensitive and not principal.has_role(roles.SENSITIVE):
        raise Problem.forbidden("Sensitive grievances need the role grievance.sensitive.")
    if not handles(principal, grievance):
        raise Problem.forbidden(
            f"The grievance is handled by the {grievance.handling_tier} unit "
            f"{grievance.handling_admin_code or '(national)'}; only its handlers may change it."
        )


async def get_for_change(session: AsyncSession, grievance_id: uuid.UUID) -> Grievance:
    grievance = await grievances.get(session, grievance_id)
    if grievance is None:
        raise Problem.not_found("The grievance")
    return grievance


# --- intake -------------------------------------------------------------------------------


async def submit(
    session: AsyncSession,
    *,
    intake: IntakeBase,
    channel: str,
    location_code: str,
    household_id: uuid.UUID | None,
    member_id: uuid.UUID | None,
    submitted_by: str | None,
    now: datetime,
    claimed_household_code: str | None = None,
) -> Grievance:
    """Record a grievance at its location and route it to its first handling unit."""
    unit = routing.first_unit(intake.category, location_code)
    complainant = None if intake.anonymous else intake.complainant
    grievance = Grievance(
        claimed_household_code=claimed_household_code,
        id=uuid.uuid4(),
        tracking_code=new_code(),
        channel=channel,
        category=intake.category,
        sensitive=routing.is_sensitive(intake.category),
        programme_code=intake.programme_code,
        location_code=location_code,
        description=intake.description,
        household_id=household_id,
        member_id=member_id,
        anonymous=intake.anonymous,
        complainant_name=complainant.name if complainant else None,
        complainant_phone=complainant.phone if complainant else None,
        complainant_sex=complainant.sex if complainant else None,
        complainant_age_group=complainant.age_group if complainant else None,
        complainant_vulnerabilities=[v.value for v in complainant.vulnerabilities]
        if complainant
        else [],
        status=Status.SUBMITTED,
        handling_tier=unit.tier.value,
        handling_admin_code=unit.admin_code,
        tier_entered_at=now,
        due_kind="acknowledge",
        due_at=routing.acknowledge_due(intake.category, unit.tier, now),
        submitted_by=submitted_by,
        submitted_at=now,
        updated_at=now,
    )
    entry = TimelineEntry(
        grievance_id=grievance.id,
        occurred_at=now,
        kind=TimelineKind.SUBMITTED,
        public=True,
        actor=submitted_by or COMPLAINANT,
        details={"channel": channel, "to_tier": unit.tier.value, "to_admin_code": unit.admin_code},
    )
    # A taken code (28^9 of them: one in ten million with a million on file) means another
    # draw; the unique index decides, in the same statement as the insert.
    for _ in range(5):
        if await grievances.insert_new(session, grievance, entry):
            break
        grievance.tracking_code = new_code()
    else:
        raise RuntimeError("could not draw an unused tracking code")
    await events.submitted(session, grievance)
    return grievance


async def require_member_of(
    session: AsyncSession, *, member_id: uuid.UUID | None, household_id: uuid.UUID | None
) -> None:
    """A grievance about a member names a member of its household, as the registry's events
    say: never a person of a household elsewhere (whose grievance would then be handled, and
    read, by the wrong commune)."""
    if member_id is None:
        return
    if household_id is None:
        raise Problem.invalid("member_id", "needs the household the member belongs to")
    known = await households.member(session, member_id)
    if known is None or known.household_id != household_id or known.status != "active":
        raise Problem.invalid(
            "member_id",
            "not a member of this household (or the registry has not announced it yet)",
        )


async def record_intake(
    session: AsyncSession, *, principal: Principal, intake: GrievanceIntake, now: datetime
) -> Grievance:
    """Staff intake: placed at the given location, or at the linked household's village.
    The route admits handlers only (`access.GrievanceRecorder`)."""
    location = intake.location_code
    if intake.household_id is not None:
        household = await households.get(session, intake.household_id)
        if household is not None:
            # The registry knows where the household lives: its commune handles it.
            location = household.village_code
    if location is None:
        raise Problem.invalid(
            "location_code", "required: the household is not known to the registry (yet)"
        )
    require_in_jurisdiction(principal, location, what="A grievance")
    await require_member_of(session, member_id=intake.member_id, household_id=intake.household_id)
    return await submit(
        session,
        intake=intake,
        channel=intake.channel,
        location_code=location,
        household_id=intake.household_id,
        member_id=intake.member_id,
        submitted_by=principal.sub,
        now=now,
    )


async def link_household(
    session: AsyncSession,
    *,
    principal: Principal,
    grievance: Grievance,
    household_code: str,
    member_id: uuid.UUID | None,
    now: datetime,
) -> Grievance:
    """Link an open grievance to a registry household found after intake (a complaint taken on
    the hotline before anyone knew the household's code), or correct the link. The household
    must be known to the read model and lie in the handler's area; the grievance's location
    stays where it was filed. The same link again changes nothing."""
    require_handler(principal, grievance)
    if grievance.status not in OPEN_STATUSES:
        raise Problem.conflict(
            f"A grievance that is {grievance.status} cannot be linked to a household; link it "
            "before it is resolved.",
            slug=GRIEVANCE_NOT_OPEN,
        )
    household = await households.get_by_code(session, household_code)
    if household is None or not principal.covers(household.village_code):
        raise Problem.invalid(
            "household_code",
            "no household with this code in your area (or the registry has not announced it yet)",
        )
    await require_member_of(session, member_id=member_id, household_id=household.household_id)
    if (grievance.household_id, grievance.member_id) == (household.household_id, member_id):
        return grievance
    previous = grievance.household_id
    grievance.household_id = household.household_id
    grievance.member_id = member_id
    _touch(grievance, now)
    details = {
        "household_code": household.household_code,
        "member_id": str(member_id) if member_id else None,
        "previous_household_id": str(previous) if previous else None,
    }
    _note(
        session,
        grievance,
        TimelineKind.HOUSEHOLD_LINKED,
        actor=principal.sub,
        now=now,
        public=False,
        details=details,
    )
    await session.flush()
    await events.household_linked(session, grievance, previous, now)
    return grievance


async def link_claimed(
    session: AsyncSession,
    *,
    household_id: uuid.UUID,
    household_code: str,
    village_code: str,
    now: datetime,
) -> list[Grievance]:
    """A household the registry has just announced: the open grievances that named its code
    before the grievance service knew it are linked now, if they were filed in its commune
    (the rule the public form applies at submission), with an internal timeline entry and a
    grievance.household_linked event each."""
    linked = []
    for grievance in await grievances.claiming(session, household_code):
        if grievance.location_code[:6] != village_code[:6]:
            continue
        grievance.household_id = household_id
        grievance.location_code = village_code
        grievance.claimed_household_code = None
        _touch(grievance, now)
        _note(
            session,
            grievance,
            TimelineKind.HOUSEHOLD_LINKED,
            actor="registry",
            now=now,
            public=False,
            details={"household_code": household_code, "member_id": None,
                     "previous_household_id": None, "late": True},
        )  # fmt: skip
        await session.flush()
        await events.household_linked(session, grievance, None, now)
        linked.append(grievance)
    return linked


# --- transitions ---------------------------------------------------------------------------


def _move(grievance: Grievance, to: Status) -> None:
    current = Status(grievance.status)
    if to not in TRANSITIONS[current]:
        raise Problem.conflict(
            f"A grievance that is {current.value} cannot become {to.value}.",
            slug=INVALID_TRANSITION,
        )
    grievance.status = to


def _note(
    session: AsyncSession,
    grievance: Grievance,
    kind: TimelineKind,
    *,
    actor: str,
    now: datetime,
    text: str | None = None,
    public: bool = True,
    details: dict | None = None,
) -> None:
    grievances.add_timeline_entry(
        session,
        TimelineEntry(
            grievance_id=grievance.id,
            occurred_at=now,
            kind=kind,
            public=public,
            text=text,
            actor=actor,
            details=details or {},
        ),
    )


def _touch(grievance: Grievance, now: datetime) -> None:
    grievance.updated_at = now


async def acknowledge(
    session: AsyncSession,
    *,
    principal: Principal,
    grievance: Grievance,
    public_message: str | None,
    now: datetime,
) -> Grievance:
    require_handler(principal, grievance)
    _move(grievance, Status.ACKNOWLEDGED)
    grievance.acknowledged_at = grievance.acknowledged_at or now
    grievance.due_kind = "resolve"
    grievance.due_at = routing.resolve_due(
        grievance.category, Tier(grievance.handling_tier), grievance.tier_entered_at
    )
    _touch(grievance, now)
    _note(session, grievance, TimelineKind.ACKNOWLEDGED, actor=principal.sub, now=now,
          text=public_message)  # fmt: skip
    await session.flush()
    await events.acknowledged(session, grievance, now)
    return grievance


async def start_work(
    session: AsyncSession,
    *,
    principal: Principal,
    grievance: Grievance,
    public_message: str | None,
    now: datetime,
) -> Grievance:
    require_handler(principal, grievance)
    _move(grievance, Status.IN_PROGRESS)
    _touch(grievance, now)
    _note(session, grievance, TimelineKind.IN_PROGRESS, actor=principal.sub, now=now,
          text=public_message)  # fmt: skip
    await session.flush()
    await events.in_progress(session, grievance, now)
    return grievance


async def resolve(
    session: AsyncSession,
    *,
    principal: Principal,
    grievance: Grievance,
    decision: Decision,
    resolution_summary: str,
    reopen_days: int,
    now: datetime,
) -> Grievance:
    require_handler(principal, grievance)
    _move(grievance, Status.RESOLVED)
    grievance.decision = decision
    grievance.resolution_summary = resolution_summary
    grievance.resolved_at = now
    grievance.reopen_until = now + timedelta(days=reopen_days)
    grievance.due_kind = grievance.due_at = None
    _touch(grievance, now)
    _note(session, grievance, TimelineKind.RESOLVED, actor=principal.sub, now=now,
          text=resolution_summary, details={"decision": decision.value})  # fmt: skip
    await session.flush()
    await events.resolved(session, grievance, reassessment_requested=needs_reassessment(grievance))
    return grievance


def needs_reassessment(grievance: Grievance) -> bool:
    return (
        grievance.decision in REASSESSMENT_DECISIONS
        and grievance.category in REASSESSMENT_CATEGORIES
        and grievance.household_id is not None
    )


async def reject(
    session: AsyncSession, *, principal: Principal, grievance: Grievance, reason: str, now: datetime
) -> Grievance:
    require_handler(principal, grievance)
    _move(grievance, Status.REJECTED)
    grievance.rejection_reason = reason
    grievance.rejected_at = now
    grievance.due_kind = grievance.due_at = None
    _touch(grievance, now)
    _note(session, grievance, TimelineKind.REJECTED, actor=principal.sub, now=now, text=reason)
    await session.flush()
    await events.rejected(session, grievance, reason, now)
    return grievance


async def close(
    session: AsyncSession,
    *,
    principal: Principal,
    grievance: Grievance,
    public_message: str | None,
    now: datetime,
) -> Grievance:
    require_handler(principal, grievance)
    _move(grievance, Status.CLOSED)
    grievance.closed_at = now
    _touch(grievance, now)
    _note(session, grievance, TimelineKind.CLOSED, actor=principal.sub, now=now,
          text=public_message)  # fmt: skip
    await session.flush()
    await events.closed(session, grievance, now, automatic=False)
    return grievance


async def escalate(
    session: AsyncSession, *, principal: Principal, grievance: Grievance, reason: str, now: datetime
) -> Grievance:
    """Manual escalation one tier up by the handling unit, with a reason."""
    require_handler(principal, grievance)
    if Status(grievance.status) not in OPEN_STATUSES:
        raise Problem.conflict(
            f"A grievance that is {grievance.status} cannot be escalated.",
            slug=INVALID_TRANSITION,
        )
    current = routing.HandlingUnit(Tier(grievance.handling_tier), grievance.handling_admin_code)
    target = routing.next_unit(current, grievance.location_code)
    if target is None:
        raise Problem.conflict(
            "The grievance is handled at the national tier; there is no tier above.",
            slug=INVALID_TRANSITION,
        )
    grievance.handling_tier = target.tier.value
    grievance.handling_admin_code = target.admin_code
    grievance.tier_entered_at = now
    grievance.escalation_count += 1
    if Status(grievance.status) in AWAITING_ACKNOWLEDGEMENT:
        grievance.due_kind = "acknowledge"
        grievance.due_at = routing.acknowledge_due(grievance.category, target.tier, now)
    else:
        grievance.due_kind = "resolve"
        grievance.due_at = routing.resolve_due(grievance.category, target.tier, now)
    _touch(grievance, now)
    details = {
        "automatic": False,
        "from_tier": current.tier.value,
        "from_admin_code": current.admin_code,
        "to_tier": target.tier.value,
        "to_admin_code": target.admin_code,
    }
    # The reason is an internal matter; the public entry says only where it went.
    _note(session, grievance, TimelineKind.ESCALATED, actor=principal.sub, now=now,
          details=details)  # fmt: skip
    _note(session, grievance, TimelineKind.INTERNAL_NOTE, actor=principal.sub, now=now,
          text=f"Escalated: {reason}", public=False)  # fmt: skip
    await session.flush()
    await events.escalated(
        session, grievance, automatic=False, from_unit=current, reason=reason, now=now
    )
    return grievance


async def add_timeline_entry(
    session: AsyncSession,
    *,
    principal: Principal,
    grievance: Grievance,
    kind: str,
    text: str,
    now: datetime,
) -> TimelineEntry:
    require_handler(principal, grievance)
    entry = TimelineEntry(
        grievance_id=grievance.id,
        occurred_at=now,
        kind=kind,
        public=kind == TimelineKind.PUBLIC_RESPONSE,
        text=text,
        actor=principal.sub,
        details={},
    )
    grievances.add_timeline_entry(session, entry)
    _touch(grievance, now)  # a new entry is a change: the ETag moves on
    await session.flush()
    return entry


# --- the complainant, through the tracking code --------------------------------------------


async def reopen(
    session: AsyncSession, *, grievance: Grievance, reason: str, now: datetime
) -> Grievance:
    if grievance.status in (Status.RESOLVED, Status.CLOSED) and (
        grievance.reopen_until is None or now > grievance.reopen_until
    ):
        raise Problem.conflict(
            "The period for reopening this grievance has ended.", slug=REOPEN_PERIOD_ENDED
        )
    _move(grievance, Status.REOPENED)
    grievance.reopen_count += 1
    grievance.tier_entered_at = now
    grievance.due_kind = "acknowledge"
    grievance.due_at = routing.acknowledge_due(
        grievance.category, Tier(grievance.handling_tier), now
    )
    grievance.closed_at = None
    _touch(grievance, now)
    _note(session, grievance, TimelineKind.REOPENED, actor=COMPLAINANT, now=now, text=reason)
    await session.flush()
    await events.reopened(session, grievance, now)
    return grievance


async def rate(
    session: AsyncSession, *, grievance: Grievance, rating: int, now: datetime
) -> Grievance:
    if grievance.status not in (Status.RESOLVED, Status.CLOSED):
        raise Problem.conflict(
            "A grievance can be rated once it is resolved.", slug=INVALID_TRANSITION
        )
    if grievance.rating is not None:
        raise Problem.conflict("This grievance was already rated.", slug=ALREADY_RATED)
    grievance.rating = rating
    grievance.rated_at = now
    _touch(grievance, now)
    _note(session, grievance, TimelineKind.RATED, actor=COMPLAINANT, now=now,
          details={"rating": rating})  # fmt: skip
    await session.flush()
    await events.rated(session, grievance, rating, now)
    return grievance
