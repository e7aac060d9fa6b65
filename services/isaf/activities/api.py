"""Staff routes of activities with participation."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from services.isaf.access import Reader, Recorder
from services.isaf.activities import repository, service
from services.isaf.activities.models import Activity
from services.isaf.activities.schemas import ActivityCreate, ActivityRead, Participation
from services.isaf.codes import ActivityType, label
from shared.clock import ClockDep
from shared.db import SessionDep
from shared.gazetteer import LocationCode
from shared.http.idempotency import IdempotencyDep
from shared.http.language import Language, LanguageDep
from shared.http.pagination import Page, PageDep
from shared.problems import PROBLEM_RESPONSES, Problem

router = APIRouter(tags=["activities"])


def activity_read(activity: Activity, language: Language) -> ActivityRead:
    return ActivityRead(
        id=activity.id, cycle_id=activity.cycle_id, location_code=activity.location_code,
        village_code=activity.village_code, activity_type=activity.activity_type,
        activity_type_label=label(activity.activity_type, language), held_on=activity.held_on,
        venue=activity.venue, facilitator_caf_ids=list(activity.facilitator_caf_ids),
        participants=Participation(
            total=activity.participants_total, female=activity.participants_female,
            male=activity.participants_male, with_disability=activity.with_disability,
            ethnic_minority=activity.ethnic_minority, youth=activity.youth,
            idpoor=activity.idpoor,
        ),
        booklets=activity.booklets,
    )  # fmt: skip


@router.post(
    "/activities",
    status_code=201,
    responses={k: PROBLEM_RESPONSES[k] for k in (403, 404, 409)},
    summary="Record an I4C dissemination, door-to-door round, JAAP committee meeting, "
    "interface meeting or public forum with its participants",
    description="Counts must add up: women + men <= total (the rest are of another sex), and "
    "no subgroup (disability, ethnic minority, youth, IDPoor) above the total. The date lies "
    "in the cycle's year; the cycle is not closed. Emits isaf.activity.recorded.",
)
async def record_activity(
    body: ActivityCreate, session: SessionDep, principal: Recorder, clock: ClockDep,
    language: LanguageDep, idempotency: IdempotencyDep,
) -> ActivityRead:  # fmt: skip
    if idempotency.replay is not None:
        return idempotency.replay  # type: ignore[return-value]
    activity = await service.record(session, principal=principal, body=body, now=clock.now())
    return await idempotency.respond(  # type: ignore[return-value]
        201, activity_read(activity, language).model_dump(mode="json"),
        headers={"Location": f"/activities/{activity.id}"},
    )  # fmt: skip


@router.get("/activities", summary="Activities in your area (cursor pages)")
async def list_activities(
    session: SessionDep,
    principal: Reader,
    page: PageDep,
    language: LanguageDep,
    cycle_id: uuid.UUID | None = None,
    activity_type: ActivityType | None = None,
    location: LocationCode | None = None,
) -> Page[ActivityRead]:
    rows, cursor = await repository.list_visible(
        session, principal, cycle_id=cycle_id, activity_type=activity_type, location=location,
        page=page,
    )  # fmt: skip
    return Page(items=[activity_read(a, language) for a in rows], next_cursor=cursor)


@router.get(
    "/activities/{activity_id}",
    responses={k: PROBLEM_RESPONSES[k] for k in (404,)},
    summary="One activity",
)
async def get_activity(
    activity_id: uuid.UUID, session: SessionDep, principal: Reader, language: LanguageDep
) -> ActivityRead:
    activity = await repository.get_visible(session, principal, activity_id)
    if activity is None:
        raise Problem.not_found("The activity")
    return activity_read(activity, language)
