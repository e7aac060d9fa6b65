"""Staff routes of JAAPs, their actions, monitoring and support requests."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response

from services.isaf.access import Reader, Recorder
from services.isaf.jaaps import repository, service
from services.isaf.jaaps.models import Jaap, JaapAction
from services.isaf.jaaps.schemas import (
    ActionIn,
    ActionRead,
    ActionStatusChange,
    ActionUpdateRead,
    JaapCreate,
    JaapRead,
    SupportRequestCreate,
)
from shared.clock import ClockDep
from shared.db import SessionDep
from shared.gazetteer import LocationCode
from shared.http.concurrency import for_change, set_etag
from shared.http.pagination import Page, PageDep
from shared.jurisdiction import require_in_jurisdiction
from shared.principal import PrincipalDep
from shared.problems import PROBLEM_RESPONSES, Problem

router = APIRouter(tags=["jaaps"])

_READ = {k: PROBLEM_RESPONSES[k] for k in (404,)}
_WRITE = {k: PROBLEM_RESPONSES[k] for k in (403, 404, 409, 412, 428)}


def action_read(action: JaapAction, updates=()) -> ActionRead:
    return ActionRead(
        id=action.id, version=action.version, jaap_id=action.jaap_id,
        location_code=action.location_code, year=action.year, description=action.description,
        facility_id=action.facility_id, scorecard_id=action.scorecard_id,
        indicator_id=action.indicator_id, indicator_name_en=action.indicator_name_en,
        indicator_name_km=action.indicator_name_km,
        indicator_median=float(action.indicator_median)
        if action.indicator_median is not None else None,
        responsible_party=action.responsible_party, responsible_tier=action.responsible_tier,
        deadline=action.deadline, budget_need_riel=action.budget_need_riel,
        status=action.status, status_reason=action.status_reason,
        status_changed_at=action.status_changed_at, support_status=action.support_status,
        support_addressed_tier=action.support_addressed_tier,
        support_addressed_admin_code=action.support_addressed_admin_code,
        support_approved_riel=action.support_approved_riel,
        updates=[
            ActionUpdateRead(from_status=u.from_status, to_status=u.to_status, note=u.note, at=u.at)
            for u in updates
        ],
    )  # fmt: skip


async def jaap_read(session, jaap: Jaap) -> JaapRead:
    actions = await repository.actions_of(session, [jaap.id])
    return JaapRead(
        id=jaap.id, cycle_id=jaap.cycle_id, location_code=jaap.location_code, year=jaap.year,
        adopted_on=jaap.adopted_on, interface_meeting_id=jaap.interface_meeting_id,
        actions=[action_read(a) for a in actions],
    )  # fmt: skip


@router.post(
    "/jaaps",
    status_code=201,
    responses={k: PROBLEM_RESPONSES[k] for k in (403, 404, 409)},
    summary="Record the JAAP the interface meeting adopted, with its actions",
    description="One JAAP per cycle (409). Each action may name the facility and the "
    "scorecard indicator it answers (the indicator's median is copied as it stood), the "
    "responsible party and tier, a deadline and a budget need in riel. Emits "
    "isaf.jaap.adopted.",
)
async def adopt_jaap(
    body: JaapCreate, session: SessionDep, principal: Recorder, clock: ClockDep
) -> JaapRead:
    jaap, _ = await service.adopt(session, principal=principal, body=body, now=clock.now())
    return await jaap_read(session, jaap)


@router.get("/jaaps", summary="JAAPs in your area (cursor pages)")
async def list_jaaps(
    session: SessionDep,
    principal: Reader,
    page: PageDep,
    year: int | None = None,
    location: LocationCode | None = None,
) -> Page[JaapRead]:
    rows, cursor = await repository.list_visible(
        session, principal, year=year, location=location, page=page
    )
    return Page(items=[await jaap_read(session, j) for j in rows], next_cursor=cursor)


@router.get("/jaaps/{jaap_id}", responses=_READ, summary="One JAAP with its actions")
async def get_jaap(jaap_id: uuid.UUID, session: SessionDep, principal: Reader) -> JaapRead:
    jaap = await repository.get_visible(session, principal, jaap_id)
    if jaap is None:
        raise Problem.not_found("The JAAP")
    return await jaap_read(session, jaap)


async def _jaap_to_change(jaap_id: uuid.UUID, session: SessionDep, principal: PrincipalDep) -> Jaap:
    jaap = await repository.get(session, jaap_id)
    if jaap is None:
        raise Problem.not_found("The JAAP")
    require_in_jurisdiction(principal, jaap.location_code, what="The JAAP")
    return jaap


@router.post(
    "/jaaps/{jaap_id}/actions",
    status_code=201,
    responses={k: PROBLEM_RESPONSES[k] for k in (403, 404, 409)},
    summary="Add an action to an adopted JAAP (e.g. agreed at a JAAP committee meeting)",
)
async def add_action(
    body: ActionIn,
    principal: Recorder,
    jaap: Annotated[Jaap, Depends(_jaap_to_change)],
    session: SessionDep,
    clock: ClockDep,
    response: Response,
) -> ActionRead:
    action = await service.add_action(
        session, principal=principal, jaap=jaap, body=body, now=clock.now()
    )
    set_etag(response, action.version)
    return action_read(action, (await repository.updates_of(session, [action.id]))[action.id])


@router.get("/jaap-actions/{action_id}", responses=_READ, summary="One action with its history")
async def get_action(
    action_id: uuid.UUID, session: SessionDep, principal: Reader, response: Response
) -> ActionRead:
    action = await repository.get_visible_action(session, principal, action_id)
    if action is None:
        raise Problem.not_found("The action")
    set_etag(response, action.version)
    return action_read(action, (await repository.updates_of(session, [action.id]))[action.id])


async def _action_to_change(
    action_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> JaapAction:
    action = await repository.get_action(session, action_id)
    if action is None:
        raise Problem.not_found("The action")
    require_in_jurisdiction(principal, action.location_code, what="The action")
    return action


ActionForChange = Annotated[JaapAction, Depends(for_change(_action_to_change))]


@router.post(
    "/jaap-actions/{action_id}/status",
    responses=_WRITE,
    summary="Monitoring: change an action's status with a progress note (If-Match)",
    description="not_started -> in_progress -> completed; dropped (with a reason) from "
    "not_started or in_progress; completed and dropped are final. Emits "
    "isaf.jaap.action_status_changed.",
)
async def change_action_status(
    body: ActionStatusChange,
    principal: Recorder,
    action: ActionForChange,
    session: SessionDep,
    clock: ClockDep,
    response: Response,
) -> ActionRead:
    await service.change_status(
        session, principal=principal, action=action, status=body.status, note=body.note,
        reason=body.reason, now=clock.now(),
    )  # fmt: skip
    set_etag(response, action.version)
    return action_read(action, (await repository.updates_of(session, [action.id]))[action.id])


@router.post(
    "/jaap-actions/{action_id}/support-request",
    responses=_WRITE,
    summary="Raise an action's budget need as a support request to the district/khan or "
    "province/capital (If-Match)",
    description="Emits isaf.jaap.action_support_requested for the budget service; its "
    "decision and fulfilment come back onto the action (support_status).",
)
async def request_support(
    body: SupportRequestCreate,
    principal: Recorder,
    action: ActionForChange,
    session: SessionDep,
    clock: ClockDep,
    response: Response,
) -> ActionRead:
    await service.request_support(
        session, principal=principal, action=action, body=body, now=clock.now()
    )
    set_etag(response, action.version)
    return action_read(action, (await repository.updates_of(session, [action.id]))[action.id])
