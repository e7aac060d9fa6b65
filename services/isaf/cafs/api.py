"""Staff routes of the CAF register and of trainings.

A CAF's phone number is masked for everyone but the facilitators of the CAF's commune and
district, and each unmasked read is logged (personal_data_access).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response

from services.isaf.access import Reader, Recorder
from services.isaf.cafs import repository, service
from services.isaf.cafs.models import Caf, Training
from services.isaf.cafs.schemas import (
    CafCreate,
    CafRead,
    CafUpdate,
    TrainingCreate,
    TrainingRead,
)
from services.isaf.codes import Audience
from shared.clock import ClockDep
from shared.db import SessionDep
from shared.gazetteer import LocationCode
from shared.http.concurrency import for_change, set_etag
from shared.http.idempotency import IdempotencyDep
from shared.http.pagination import Page, PageDep
from shared.jurisdiction import require_in_jurisdiction
from shared.masking import mask_phone
from shared.principal import Principal, PrincipalDep
from shared.problems import PROBLEM_RESPONSES, Problem

router = APIRouter(tags=["cafs"])

_READ = {k: PROBLEM_RESPONSES[k] for k in (404,)}
_WRITE = {k: PROBLEM_RESPONSES[k] for k in (403, 404, 412, 428)}


async def shown(
    session, principal: Principal, cafs: list[Caf], *, purpose: str, now
) -> list[CafRead]:
    await service.record_phone_reads(
        session, principal=principal, cafs=cafs, purpose=purpose, now=now
    )
    attended = await repository.trainings_attended(session, [c.id for c in cafs])
    out = []
    for caf in cafs:
        visible = service.phone_visible(principal, caf)
        out.append(
            CafRead(
                id=caf.id, version=caf.version, location_code=caf.location_code, name=caf.name,
                sex=caf.sex, birth_year=caf.birth_year,
                phone=caf.phone if visible or not caf.phone else mask_phone(caf.phone),
                phone_masked=bool(caf.phone) and not visible, local_ngo=caf.local_ngo,
                active=caf.active, trainings_attended=attended.get(caf.id, 0),
            )
        )  # fmt: skip
    return out


@router.post(
    "/cafs",
    status_code=201,
    responses={k: PROBLEM_RESPONSES[k] for k in (403,)},
    summary="Register a Community Accountability Facilitator (volunteer)",
)
async def register_caf(
    body: CafCreate, session: SessionDep, principal: Recorder, clock: ClockDep,
    idempotency: IdempotencyDep,
) -> CafRead:  # fmt: skip
    if idempotency.replay is not None:
        return idempotency.replay  # type: ignore[return-value]
    now = clock.now()
    caf = await service.register_caf(session, principal=principal, body=body, now=now)
    [read] = await shown(session, principal, [caf], purpose="register_caf", now=now)
    return await idempotency.respond(  # type: ignore[return-value]
        201, read.model_dump(mode="json"),
        headers={"ETag": f'"{caf.version}"', "Location": f"/cafs/{caf.id}"},
    )  # fmt: skip


@router.get("/cafs", summary="CAFs of your area (cursor pages; phones masked by role)")
async def list_cafs(
    session: SessionDep,
    principal: Reader,
    page: PageDep,
    clock: ClockDep,
    location: LocationCode | None = None,
    active: bool | None = None,
) -> Page[CafRead]:
    rows, cursor = await repository.list_cafs(
        session, principal, location=location, active=active, page=page
    )
    items = await shown(session, principal, rows, purpose="list_cafs", now=clock.now())
    return Page(items=items, next_cursor=cursor)


@router.get("/cafs/{caf_id}", responses=_READ, summary="One CAF")
async def get_caf(
    caf_id: uuid.UUID, session: SessionDep, principal: Reader, clock: ClockDep,
    response: Response,
) -> CafRead:  # fmt: skip
    caf = await repository.get_visible_caf(session, principal, caf_id)
    if caf is None:
        raise Problem.not_found("The CAF")
    set_etag(response, caf.version)
    [read] = await shown(session, principal, [caf], purpose="get_caf", now=clock.now())
    return read


async def _caf_to_change(caf_id: uuid.UUID, session: SessionDep, principal: PrincipalDep) -> Caf:
    caf = await repository.get_caf(session, caf_id)
    if caf is None:
        raise Problem.not_found("The CAF")
    require_in_jurisdiction(principal, caf.location_code, what="The CAF")
    return caf


CafForChange = Annotated[Caf, Depends(for_change(_caf_to_change))]


@router.patch(
    "/cafs/{caf_id}",
    responses=_WRITE,
    summary="Mark a CAF active or inactive, or change their phone or NGO (If-Match)",
)
async def update_caf(
    body: CafUpdate, principal: Recorder, caf: CafForChange, session: SessionDep,
    clock: ClockDep, response: Response,
) -> CafRead:  # fmt: skip
    now = clock.now()
    await service.update_caf(session, principal=principal, caf=caf, body=body, now=now)
    set_etag(response, caf.version)
    [read] = await shown(session, principal, [caf], purpose="update_caf", now=now)
    return read


def training_read(training: Training, caf_ids: list[uuid.UUID]) -> TrainingRead:
    return TrainingRead(
        id=training.id, location_code=training.location_code, audience=training.audience,
        topics=list(training.topics), starts_on=training.starts_on, ends_on=training.ends_on,
        venue=training.venue, attendees_total=training.attendees_total,
        attendees_female=training.attendees_female, attendees_male=training.attendees_male,
        caf_ids=caf_ids,
    )  # fmt: skip


@router.post(
    "/trainings",
    status_code=201,
    responses={k: PROBLEM_RESPONSES[k] for k in (403,)},
    summary="Record a training (CAFs = demand side, providers = supply side, SNA staff)",
    description="Attendee counts must add up (women + men <= total; the rest are of another "
    "sex). Registered CAFs who attended are named by id: `CAFs trained` counts them.",
)
async def record_training(
    body: TrainingCreate, session: SessionDep, principal: Recorder, clock: ClockDep,
    idempotency: IdempotencyDep,
) -> TrainingRead:  # fmt: skip
    if idempotency.replay is not None:
        return idempotency.replay  # type: ignore[return-value]
    training = await service.record_training(
        session, principal=principal, body=body, now=clock.now()
    )
    return await idempotency.respond(  # type: ignore[return-value]
        201, training_read(training, sorted(body.caf_ids)).model_dump(mode="json"),
        headers={"Location": f"/trainings/{training.id}"},
    )  # fmt: skip


@router.get("/trainings", summary="Trainings in your area (cursor pages)")
async def list_trainings(
    session: SessionDep,
    principal: Reader,
    page: PageDep,
    location: LocationCode | None = None,
    audience: Audience | None = None,
) -> Page[TrainingRead]:
    rows, cursor = await repository.list_trainings(
        session, principal, location=location, audience=audience, page=page
    )
    attendance = await repository.attendance(session, [t.id for t in rows])
    return Page(items=[training_read(t, attendance[t.id]) for t in rows], next_cursor=cursor)


@router.get("/trainings/{training_id}", responses=_READ, summary="One training")
async def get_training(
    training_id: uuid.UUID, session: SessionDep, principal: Reader
) -> TrainingRead:
    training = await repository.get_visible_training(session, principal, training_id)
    if training is None:
        raise Problem.not_found("The training")
    attendance = await repository.attendance(session, [training.id])
    return training_read(training, attendance[training.id])
