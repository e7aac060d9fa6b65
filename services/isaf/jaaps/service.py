"""The rules of JAAPs: one per cycle, adopted at the interface meeting; actions linked to a
facility and a scorecard indicator of the same cycle (its median copied as it stood); action
status not started -> in progress -> completed, or dropped with a reason, each change with
its progress note; a budget need raised once as a support request to the district/khan or
the province/capital. Functions flush and never commit."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.isaf.activities import repository as activities
from services.isaf.codes import ACTION_TRANSITIONS, ActionStatus, ActivityType
from services.isaf.cycles import service as cycles
from services.isaf.cycles.models import Cycle
from services.isaf.jaaps import repository
from services.isaf.jaaps.models import ActionUpdate, Jaap, JaapAction
from services.isaf.jaaps.schemas import ActionIn, JaapCreate, SupportRequestCreate
from services.isaf.scorecards import repository as scorecards
from shared.events.catalog.isaf import (
    JaapActionStatusChanged,
    JaapActionSupportRequested,
    JaapAdopted,
)
from shared.outbox import emit
from shared.principal import Principal
from shared.problems import Problem, field_error

# Where the budget service's answers land on an action (`support_status`).
SUPPORT_OPEN = frozenset({"requested", "approved", "partly_approved", "fulfilled"})


async def _action(
    session: AsyncSession, *, cycle: Cycle, jaap: Jaap, body: ActionIn, field: str,
    principal: Principal, now: datetime,
) -> JaapAction:  # fmt: skip
    facility_id = body.facility_id
    indicator = None
    if (body.scorecard_id is None) != (body.indicator_id is None):
        raise Problem.invalid(
            f"{field}.indicator_id", "give scorecard_id and indicator_id together"
        )
    if body.scorecard_id is not None:
        scorecard = await scorecards.get(session, body.scorecard_id)
        if scorecard is None or scorecard.cycle_id != cycle.id:
            raise Problem.invalid(f"{field}.scorecard_id", "no such scorecard in this cycle")
        indicator = await scorecards.indicator(session, scorecard.id, body.indicator_id)
        if indicator is None:
            raise Problem.invalid(f"{field}.indicator_id", "no such indicator in the scorecard")
        if facility_id is None:
            facility_id = scorecard.facility_id
        elif facility_id != scorecard.facility_id:
            raise Problem.invalid(f"{field}.facility_id", "is not the scorecard's facility")
    if facility_id is not None:
        await cycles.facility_of_cycle(
            session, cycle=cycle, facility_id=facility_id, field=f"{field}.facility_id"
        )
    if body.deadline < jaap.adopted_on:
        raise Problem.invalid(f"{field}.deadline", "must not be before the JAAP's adoption")
    action = JaapAction(
        id=uuid.uuid4(), jaap_id=jaap.id, location_code=jaap.location_code, year=jaap.year,
        description=body.description, facility_id=facility_id,
        scorecard_id=body.scorecard_id, indicator_id=body.indicator_id,
        indicator_name_en=indicator.name_en if indicator else None,
        indicator_name_km=indicator.name_km if indicator else None,
        indicator_median=indicator.median if indicator else None,
        responsible_party=body.responsible_party, responsible_tier=body.responsible_tier,
        deadline=body.deadline, budget_need_riel=body.budget_need_riel,
        status=ActionStatus.NOT_STARTED, status_changed_at=now, created_at=now,
    )  # fmt: skip
    update = ActionUpdate(
        action_id=action.id, from_status=None, to_status=ActionStatus.NOT_STARTED,
        note="Adopted.", actor=principal.sub, at=now,
    )  # fmt: skip
    repository.add(session, action)
    await session.flush()
    repository.add(session, update)
    return action


async def adopt(
    session: AsyncSession, *, principal: Principal, body: JaapCreate, now: datetime
) -> tuple[Jaap, list[JaapAction]]:
    cycle = await cycles.cycle_for_recording(session, principal=principal, cycle_id=body.cycle_id)
    if await repository.for_cycle(session, cycle.id) is not None:
        error = field_error(["cycle_id"], "a JAAP was adopted in this cycle")
        raise Problem(409, "The cycle already has its JAAP.", errors=[error])
    cycles.require_in_cycle_year(cycle, body.adopted_on, field="adopted_on")
    if body.interface_meeting_id is not None:
        meeting = await activities.get(session, body.interface_meeting_id)
        if (
            meeting is None
            or meeting.cycle_id != cycle.id
            or meeting.activity_type != ActivityType.INTERFACE_MEETING
        ):
            raise Problem.invalid("interface_meeting_id", "no such interface meeting in the cycle")
    jaap = Jaap(
        id=uuid.uuid4(), cycle_id=cycle.id, location_code=cycle.location_code, year=cycle.year,
        adopted_on=body.adopted_on, interface_meeting_id=body.interface_meeting_id,
        adopted_by=principal.sub, recorded_at=now,
    )  # fmt: skip
    repository.add(session, jaap)
    await session.flush()
    actions = [
        await _action(
            session, cycle=cycle, jaap=jaap, body=a, field=f"actions.{i}", principal=principal,
            now=now,
        )
        for i, a in enumerate(body.actions)
    ]  # fmt: skip
    await session.flush()
    await emit(
        session,
        JaapAdopted(
            jaap_id=jaap.id, cycle_id=cycle.id, location_code=jaap.location_code,
            year=jaap.year, adopted_on=jaap.adopted_on, actions=len(actions),
            budget_need_riel=sum(a.budget_need_riel for a in actions),
        ),
        subject=jaap.id, jurisdiction=jaap.location_code, occurred_at=now,
    )  # fmt: skip
    return jaap, actions


async def add_action(
    session: AsyncSession, *, principal: Principal, jaap: Jaap, body: ActionIn, now: datetime
) -> JaapAction:
    cycle = await cycles.cycle_for_recording(session, principal=principal, cycle_id=jaap.cycle_id)
    action = await _action(
        session, cycle=cycle, jaap=jaap, body=body, field="body", principal=principal, now=now
    )
    await session.flush()
    return action


async def change_status(
    session: AsyncSession, *, principal: Principal, action: JaapAction, status: ActionStatus,
    note: str, reason: str | None, now: datetime,
) -> JaapAction:  # fmt: skip
    current = ActionStatus(action.status)
    if status not in ACTION_TRANSITIONS[current]:
        allowed = ", ".join(sorted(ACTION_TRANSITIONS[current])) or "none (it is final)"
        raise cycles.transition_refused(
            "status", f"the action is {current}; it may move to: {allowed}"
        )
    if status == ActionStatus.DROPPED and not reason:
        raise Problem.invalid("reason", "a dropped action needs its reason")
    action.status = status
    action.status_reason = reason if status == ActionStatus.DROPPED else None
    action.status_changed_at = now
    repository.add(
        session,
        ActionUpdate(
            action_id=action.id, from_status=current, to_status=status, note=note,
            actor=principal.sub, at=now,
        ),
    )  # fmt: skip
    await session.flush()
    await emit(
        session,
        JaapActionStatusChanged(
            jaap_id=action.jaap_id, action_id=action.id, location_code=action.location_code,
            year=action.year, from_status=current, to_status=status, note=note, reason=reason,
            changed_at=now,
        ),
        subject=action.jaap_id, jurisdiction=action.location_code, occurred_at=now,
    )  # fmt: skip
    return action


async def request_support(
    session: AsyncSession, *, principal: Principal, action: JaapAction,
    body: SupportRequestCreate, now: datetime,
) -> JaapAction:  # fmt: skip
    if action.budget_need_riel <= 0:
        raise Problem.conflict("The action has no budget need to ask support for.")
    if action.status in (ActionStatus.COMPLETED, ActionStatus.DROPPED):
        raise cycles.transition_refused("status", f"the action is {action.status}")
    if action.support_status in SUPPORT_OPEN:
        raise Problem.conflict(f"A support request for this action is {action.support_status}.")
    length = {"dmk": 4, "cp": 2}[body.addressed_tier]
    if len(action.location_code) <= length:
        raise Problem.invalid("addressed_tier", "must be a tier above the action's own area")
    jaap = await repository.get(session, action.jaap_id)
    assert jaap is not None
    addressed = action.location_code[:length]
    action.support_status = "requested"
    action.support_addressed_tier = body.addressed_tier
    action.support_addressed_admin_code = addressed
    action.support_updated_at = now
    await session.flush()
    await emit(
        session,
        JaapActionSupportRequested(
            jaap_id=action.jaap_id, action_id=action.id, cycle_id=jaap.cycle_id,
            requesting_admin_code=action.location_code, addressed_tier=body.addressed_tier,
            addressed_admin_code=addressed, request_type=body.request_type,
            description=body.description or action.description,
            amount_riel=action.budget_need_riel, requested_at=now,
        ),
        subject=action.jaap_id, jurisdiction=action.location_code, occurred_at=now,
    )  # fmt: skip
    return action


async def support_answered(
    session: AsyncSession, *, action_id: uuid.UUID, support_request_id: uuid.UUID,
    status: str, approved_riel: int | None, note: str, now: datetime,
) -> None:  # fmt: skip
    """The budget service decided or fulfilled the request raised from an action."""
    action = await repository.get_action(session, action_id)
    if action is None:
        return  # not one of ours (another service's request naming a stale action)
    if action.support_status == "fulfilled":
        return  # a late decision never undoes the fulfilment
    action.support_status = status
    action.support_request_id = support_request_id
    if approved_riel is not None:
        action.support_approved_riel = approved_riel
    action.support_updated_at = now
    repository.add(
        session,
        ActionUpdate(
            action_id=action.id, from_status=action.status, to_status=action.status,
            note=note, actor="budget", at=now,
        ),
    )  # fmt: skip
    await session.flush()
