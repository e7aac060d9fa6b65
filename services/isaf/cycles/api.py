"""Staff routes of facilities and cycles.

Reads outside the caller's area answer 404; changes to a record outside it answer 403.
A stage change needs `If-Match` with the cycle's ETag.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response

from services.isaf.access import Reader, Recorder
from services.isaf.codes import FacilityType, label
from services.isaf.cycles import repository, service
from services.isaf.cycles.models import Cycle, Facility
from services.isaf.cycles.schemas import (
    CycleCreate,
    CycleRead,
    FacilityCreate,
    FacilityRead,
    StageChangeRead,
    StageChangeRequest,
)
from shared.clock import ClockDep
from shared.db import SessionDep
from shared.gazetteer import LocationCode
from shared.http.concurrency import for_change, set_etag
from shared.http.idempotency import IdempotencyDep
from shared.http.language import Language, LanguageDep
from shared.http.pagination import Page, PageDep
from shared.jurisdiction import require_in_jurisdiction
from shared.principal import PrincipalDep
from shared.problems import PROBLEM_RESPONSES, Problem

router = APIRouter(tags=["cycles"])

_READ = {k: PROBLEM_RESPONSES[k] for k in (404,)}
_WRITE = {k: PROBLEM_RESPONSES[k] for k in (403, 404, 409, 412, 428)}


def facility_read(facility: Facility, language: Language) -> FacilityRead:
    return FacilityRead(
        id=facility.id,
        version=facility.version,
        location_code=facility.location_code,
        village_code=facility.village_code,
        facility_type=FacilityType(facility.facility_type),
        facility_type_label=label(facility.facility_type, language),
        name_km=facility.name_km,
        name_en=facility.name_en,
        name=facility.name_km if language == "km" else facility.name_en,
    )


def cycle_read(cycle: Cycle, language: Language, history=()) -> CycleRead:
    return CycleRead(
        id=cycle.id,
        version=cycle.version,
        location_code=cycle.location_code,
        year=cycle.year,
        stage=cycle.stage,
        stage_label=label(cycle.stage, language),
        stage_changed_at=cycle.stage_changed_at,
        history=[
            StageChangeRead(
                from_stage=h.from_stage, to_stage=h.to_stage, note=h.note, changed_at=h.changed_at
            )
            for h in history
        ],
    )


@router.post(
    "/facilities",
    status_code=201,
    responses={k: PROBLEM_RESPONSES[k] for k in (403,)},
    summary="Register a service provider (commune/sangkat or khan administration, health "
    "centre, primary school)",
)
async def create_facility(
    body: FacilityCreate,
    session: SessionDep,
    principal: Recorder,
    clock: ClockDep,
    language: LanguageDep,
    idempotency: IdempotencyDep,
) -> FacilityRead:
    if idempotency.replay is not None:
        return idempotency.replay  # type: ignore[return-value]
    facility = await service.create_facility(
        session, principal=principal, body=body, now=clock.now()
    )
    return await idempotency.respond(  # type: ignore[return-value]
        201,
        facility_read(facility, language).model_dump(mode="json"),
        headers={"ETag": f'"{facility.version}"', "Location": f"/facilities/{facility.id}"},
    )


@router.get("/facilities", summary="Service providers in your area (cursor pages)")
async def list_facilities(
    session: SessionDep,
    principal: Reader,
    page: PageDep,
    language: LanguageDep,
    location: LocationCode | None = None,
    facility_type: FacilityType | None = None,
) -> Page[FacilityRead]:
    rows, cursor = await repository.list_facilities(
        session, principal, location=location, facility_type=facility_type, page=page
    )
    return Page(items=[facility_read(f, language) for f in rows], next_cursor=cursor)


@router.get("/facilities/{facility_id}", responses=_READ, summary="One service provider")
async def get_facility(
    facility_id: uuid.UUID, session: SessionDep, principal: Reader, language: LanguageDep,
    response: Response,
) -> FacilityRead:  # fmt: skip
    facility = await repository.get_visible_facility(session, principal, facility_id)
    if facility is None:
        raise Problem.not_found("The facility")
    set_etag(response, facility.version)
    return facility_read(facility, language)


@router.post(
    "/cycles",
    status_code=201,
    responses={k: PROBLEM_RESPONSES[k] for k in (403, 409)},
    summary="Open the I-SAF cycle of a commune/sangkat (or urban khan) for a year",
    description="The cycle starts at the I4C stage. One cycle per area and year (409).",
)
async def open_cycle(
    body: CycleCreate,
    session: SessionDep,
    principal: Recorder,
    clock: ClockDep,
    language: LanguageDep,
    response: Response,
) -> CycleRead:
    cycle = await service.open_cycle(session, principal=principal, body=body, now=clock.now())
    set_etag(response, cycle.version)
    return cycle_read(cycle, language, await repository.stage_history(session, cycle.id))


@router.get("/cycles", summary="Cycles in your area (cursor pages)")
async def list_cycles(
    session: SessionDep,
    principal: Reader,
    page: PageDep,
    language: LanguageDep,
    location: LocationCode | None = None,
    year: int | None = None,
) -> Page[CycleRead]:
    rows, cursor = await repository.list_cycles(
        session, principal, location=location, year=year, page=page
    )
    return Page(items=[cycle_read(c, language) for c in rows], next_cursor=cursor)


@router.get("/cycles/{cycle_id}", responses=_READ, summary="One cycle with its stage history")
async def get_cycle(
    cycle_id: uuid.UUID, session: SessionDep, principal: Reader, language: LanguageDep,
    response: Response,
) -> CycleRead:  # fmt: skip
    cycle = await repository.get_visible_cycle(session, principal, cycle_id)
    if cycle is None:
        raise Problem.not_found("The cycle")
    set_etag(response, cycle.version)
    return cycle_read(cycle, language, await repository.stage_history(session, cycle.id))


async def _cycle_to_change(
    cycle_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Cycle:
    cycle = await repository.get_cycle(session, cycle_id)
    if cycle is None:
        raise Problem.not_found("The cycle")
    require_in_jurisdiction(principal, cycle.location_code, what="The cycle")
    return cycle


CycleForChange = Annotated[Cycle, Depends(for_change(_cycle_to_change))]


@router.post(
    "/cycles/{cycle_id}/stage",
    responses=_WRITE,
    summary="Move a cycle to its next stage",
    description="i4c -> scorecard -> interface_meeting -> jaap -> monitoring -> closed, one "
    "step at a time (409 invalid-transition otherwise). Needs If-Match. Emits "
    "isaf.cycle.stage_changed.",
)
async def change_stage(
    body: StageChangeRequest,
    principal: Recorder,
    cycle: CycleForChange,
    session: SessionDep,
    clock: ClockDep,
    language: LanguageDep,
    response: Response,
) -> CycleRead:
    await service.change_stage(
        session, principal=principal, cycle=cycle, stage=body.stage, note=body.note,
        now=clock.now(),
    )  # fmt: skip
    set_etag(response, cycle.version)
    return cycle_read(cycle, language, await repository.stage_history(session, cycle.id))
