"""Case management: opening, assigning, working and closing cases on households.

Who may do what: registry officers and verifiers open and work cases on households in their
area; a case is assigned to a unit containing the household (its commune, district or
province, or national) and, optionally, to a person. A case moves open -> in_progress ->
closed (or straight from open to closed); a closed case takes no more changes. Every change
is in the household's history and on the `sp.registry.case` topic.
"""

from __future__ import annotations

import logging
import uuid
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.audit import diff, record_change
from services.registry.cases import repository
from services.registry.cases.models import Case, CaseNote, CaseStatus, CaseType
from services.registry.households.models import Household, HouseholdStatus
from shared import clock
from shared.events.catalog.registry import CaseAssigned, CaseClosed, CaseOpened
from shared.jurisdiction import require_in_jurisdiction
from shared.outbox import emit
from shared.principal import Principal
from shared.problems import Problem
from shared.tiers import Tier, tier_for_code

log = logging.getLogger(__name__)


def _unit_for(household: Household, admin_code: str | None, principal: Principal) -> str:
    """The unit a case is assigned to: it must contain the household and lie in the
    caller's area (a commune cannot hand its cases to another commune)."""
    commune = household.village_code[:6]
    unit = commune if admin_code is None else admin_code
    if not commune.startswith(unit):
        raise Problem.invalid(
            "assigned_admin_code",
            f"{unit or 'national'} does not contain the household's commune {commune}",
        )
    if not (principal.is_national or unit.startswith(principal.admin_code)):
        raise Problem.forbidden(
            f"Assigning to {unit or 'national'} is outside your jurisdiction "
            f"({principal.admin_code})."
        )
    return unit


def _tier_of(unit: str) -> Tier:
    tier = tier_for_code(unit)
    assert tier is not None  # the schema admits only 0, 2, 4 or 6 digits
    return tier


def _check_due(due_on: date, field: str = "due_on") -> None:
    if due_on < clock.today():
        raise Problem.invalid(field, "must not be in the past")


def _snapshot(case: Case) -> dict:
    return {
        "case_id": case.id,
        "case_type": case.case_type,
        "household_id": case.household_id,
        "member_id": case.member_id,
        "village_code": case.village_code,
        "assigned_admin_code": case.assigned_admin_code,
        "status": case.status,
    }


async def _create(
    session: AsyncSession,
    *,
    principal: Principal,
    household: Household,
    case_type: CaseType,
    member_id: uuid.UUID | None,
    due_on: date,
    description: str,
    unit: str,
    assignee_sub: str | None,
    assignee_name: str | None,
    origin: str | None,
    note: str | None,
) -> Case:
    case = Case(
        case_type=case_type,
        household_id=household.id,
        member_id=member_id,
        village_code=household.village_code,
        assigned_admin_code=unit,
        assigned_tier=_tier_of(unit),
        assignee_sub=assignee_sub,
        assignee_name=assignee_name,
        due_on=due_on,
        description=description,
        origin=origin,
        opened_by=principal.sub,
        updated_by=principal.sub,
    )
    session.add(case)
    await session.flush()
    if note:
        _add_note(session, principal, case, note)
    record_change(
        session,
        principal=principal,
        entity="case",
        entity_id=case.id,
        action="opened",
        changes={
            "case_type": case.case_type,
            "assigned_admin_code": unit,
            "assignee_sub": assignee_sub,
            "due_on": due_on.isoformat(),
            "origin": origin,
        },
        household_id=household.id,
        village_code=household.village_code,
    )
    await emit(
        session,
        CaseOpened(**_snapshot(case), due_on=case.due_on, origin=origin),
        subject=case.id,
        jurisdiction=case.village_code,
    )
    await session.flush()
    return case


def _add_note(session: AsyncSession, principal: Principal, case: Case, text: str) -> CaseNote:
    note = CaseNote(
        case_id=case.id,
        text=text,
        author_sub=principal.sub,
        author_name=principal.name,
        author_admin_code=principal.admin_code,
    )
    session.add(note)
    return note


async def open_case(
    session: AsyncSession,
    *,
    principal: Principal,
    household_id: uuid.UUID,
    case_type: CaseType,
    member_id: uuid.UUID | None = None,
    due_on: date | None = None,
    description: str = "",
    assigned_admin_code: str | None = None,
    assignee_sub: str | None = None,
    assignee_name: str | None = None,
    note: str | None = None,
    default_due_days: int = 30,
) -> Case:
    """A person opens a case on a household of their area (the route admits case workers
    only: `access.CaseWorker`)."""
    household = await repository.get_household(session, household_id)
    if household is None:
        raise Problem.invalid("household_id", "no such household")
    require_in_jurisdiction(principal, household.village_code, what="A household")
    if household.status == HouseholdStatus.DISSOLVED:
        raise Problem.invalid("household_id", "the household is dissolved")
    if member_id is not None:
        member = await repository.get_member(session, member_id)
        if member is None or member.household_id != household.id:
            raise Problem.invalid("member_id", "not a member of this household")
    if due_on is None:
        due_on = clock.today() + timedelta(days=default_due_days)
    _check_due(due_on)
    unit = _unit_for(household, assigned_admin_code, principal)
    return await _create(
        session,
        principal=principal,
        household=household,
        case_type=case_type,
        member_id=member_id,
        due_on=due_on,
        description=description,
        unit=unit,
        assignee_sub=assignee_sub,
        assignee_name=assignee_name,
        origin=None,
        note=note,
    )


async def open_reassessment_for_grievance(
    session: AsyncSession,
    *,
    principal: Principal,
    grievance_id: uuid.UUID,
    household_id: uuid.UUID,
    member_id: uuid.UUID | None,
    resolution_summary: str,
    due_in_days: int,
) -> Case | None:
    """A reassessment case for the household's commune, once per grievance.

    None when the household is unknown or dissolved, or a case already exists for the
    grievance (a redelivered or duplicated event).
    """
    origin = f"grievance:{grievance_id}"
    if await repository.find_by_origin(session, case_type=CaseType.REASSESSMENT, origin=origin):
        log.info("reassessment case for %s exists already", origin)
        return None
    household = await repository.get_household(session, household_id)
    if household is None or household.status == HouseholdStatus.DISSOLVED:
        log.warning("%s names household %s, which is not in the registry", origin, household_id)
        return None
    if member_id is not None:
        member = await repository.get_member(session, member_id)
        if member is None or member.household_id != household.id:
            member_id = None  # the case is about the household, whichever member was named
    return await _create(
        session,
        principal=principal,
        household=household,
        case_type=CaseType.REASSESSMENT,
        member_id=member_id,
        due_on=clock.today() + timedelta(days=due_in_days),
        description=f"Reassessment requested by grievance {grievance_id}.",
        unit=household.village_code[:6],
        assignee_sub=None,
        assignee_name=None,
        origin=origin,
        note=f"Grievance resolution: {resolution_summary}" if resolution_summary else None,
    )


async def get_case(
    session: AsyncSession, *, principal: Principal, case_id: uuid.UUID
) -> tuple[Case, list[CaseNote]]:
    """A case the principal can see, with its notes (404 otherwise)."""
    case = await repository.get_visible_case(session, principal, case_id)
    if case is None:
        raise Problem.not_found("The case")
    return case, await repository.notes_of(session, case.id)


async def case_for_update(
    session: AsyncSession, *, principal: Principal, case_id: uuid.UUID
) -> Case:
    """The case a person is about to change: 404 if none, 403 outside their area (the
    route's loader, `access.CaseForChange`, then checks the caller is a case worker)."""
    case = await repository.get_case(session, case_id)
    if case is None:
        raise Problem.not_found("The case")
    require_in_jurisdiction(principal, case.village_code, what="A case")
    return case


def _require_not_closed(case: Case, action: str) -> None:
    if case.status == CaseStatus.CLOSED:
        raise Problem.conflict(f"The case is closed; it cannot be {action}.")


def _touch(case: Case, principal: Principal) -> None:
    case.updated_at = clock.now()
    case.updated_by = principal.sub


async def assign_case(
    session: AsyncSession,
    *,
    principal: Principal,
    case: Case,
    assigned_admin_code: str | None,
    assignee_sub: str | None,
    assignee_name: str | None,
    due_on: date | None,
) -> Case:
    if assigned_admin_code is None and assignee_sub is None and due_on is None:
        raise Problem.invalid(
            "assigned_admin_code", "give a unit, a person (assignee_sub) or a due date"
        )
    _require_not_closed(case, "assigned")
    household = await repository.get_household(session, case.household_id)
    assert household is not None  # foreign key
    previous_unit = case.assigned_admin_code
    before = {
        "assigned_admin_code": case.assigned_admin_code,
        "assignee_sub": case.assignee_sub,
        "due_on": case.due_on.isoformat(),
    }
    if assigned_admin_code is not None:
        # The case is placed at its household, not at the caller: a commune's case cannot
        # be handed to another commune, whoever assigns it.
        case.assigned_admin_code = _unit_for(household, assigned_admin_code, principal)
        case.assigned_tier = _tier_of(case.assigned_admin_code)
        if assignee_sub is None:
            case.assignee_sub = case.assignee_name = None  # a new unit picks its own person
    if assignee_sub is not None:
        case.assignee_sub, case.assignee_name = assignee_sub, assignee_name
    if due_on is not None:
        _check_due(due_on)
        case.due_on = due_on
    _touch(case, principal)
    await session.flush()
    after = {
        "assigned_admin_code": case.assigned_admin_code,
        "assignee_sub": case.assignee_sub,
        "due_on": case.due_on.isoformat(),
    }
    record_change(
        session,
        principal=principal,
        entity="case",
        entity_id=case.id,
        action="assigned",
        changes=diff(before, after),
        household_id=case.household_id,
        village_code=case.village_code,
    )
    await emit(
        session,
        CaseAssigned(
            **_snapshot(case),
            assigned_tier=case.assigned_tier,
            assignee_sub=case.assignee_sub,
            previous_admin_code=previous_unit,
        ),
        subject=case.id,
        jurisdiction=case.village_code,
    )
    return case


async def add_note(
    session: AsyncSession, *, principal: Principal, case: Case, text: str
) -> CaseNote:
    """Notes are appended, never edited; adding one does not change the case's version."""
    _require_not_closed(case, "annotated")
    note = _add_note(session, principal, case, text)
    await session.flush()
    record_change(
        session,
        principal=principal,
        entity="case",
        entity_id=case.id,
        action="note_added",
        changes={"note_id": note.id},
        household_id=case.household_id,
        village_code=case.village_code,
    )
    return note


async def start_case(session: AsyncSession, *, principal: Principal, case: Case) -> Case:
    if case.status != CaseStatus.OPEN:
        raise Problem.conflict(f"Only an open case can be started; this one is {case.status}.")
    case.status = CaseStatus.IN_PROGRESS
    case.started_at = clock.now()
    if case.assignee_sub is None:
        case.assignee_sub, case.assignee_name = principal.sub, principal.name or None
    _touch(case, principal)
    await session.flush()
    record_change(
        session,
        principal=principal,
        entity="case",
        entity_id=case.id,
        action="started",
        changes={"status": {"from": CaseStatus.OPEN, "to": CaseStatus.IN_PROGRESS}},
        household_id=case.household_id,
        village_code=case.village_code,
    )
    return case


async def close_case(
    session: AsyncSession, *, principal: Principal, case: Case, outcome: str
) -> Case:
    _require_not_closed(case, "closed again")
    previous = case.status
    case.status = CaseStatus.CLOSED
    case.outcome = outcome
    case.closed_at = clock.now()
    case.closed_by = principal.sub
    _touch(case, principal)
    await session.flush()
    record_change(
        session,
        principal=principal,
        entity="case",
        entity_id=case.id,
        action="closed",
        changes={"status": {"from": previous, "to": CaseStatus.CLOSED}, "outcome": outcome},
        household_id=case.household_id,
        village_code=case.village_code,
    )
    await emit(
        session,
        CaseClosed(**_snapshot(case), outcome=outcome),
        subject=case.id,
        jurisdiction=case.village_code,
    )
    return case


async def list_cases(
    session: AsyncSession,
    *,
    principal: Principal,
    filters: repository.CaseFilters,
    page,
) -> tuple[list[Case], str | None]:
    return await repository.list_cases(session, principal, filters, page)
