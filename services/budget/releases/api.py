"""Releases: tranches planned and recorded by the allocating unit; delays."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field

from services.budget import roles
from services.budget.amounts import riel
from services.budget.codes import LineCode
from services.budget.releases import repository, service
from services.budget.releases.models import Release
from shared.clock import today
from shared.db import SessionDep
from shared.gazetteer import LocationCode
from shared.http.concurrency import for_change, set_etag
from shared.http.idempotency import IdempotencyDep
from shared.http.pagination import Page, PageDep
from shared.http.params import IsoDate
from shared.principal import Principal, PrincipalDep
from shared.problems import PROBLEM_RESPONSES, Problem

router = APIRouter(tags=["releases"])

Reader = Annotated[Principal, Depends(roles.READER)]
Planner = Annotated[Principal, Depends(roles.PLANNING)]


class ReleasePlan(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"run_id": "0b8e3c1e-2f4a-4d7e-9a51-6f0c2d1e8a90",
                                         "admin_code": "120801", "amount_riel": 5_000_000,
                                         "planned_on": "2027-03-31"}]},
    )  # fmt: skip
    run_id: uuid.UUID
    admin_code: Annotated[str, Field(pattern=r"^[0-9]{2,6}$")]
    amount_riel: riel(gt=0, le=10**18)  # type: ignore[valid-type]
    planned_on: IsoDate


class ReleaseRecord(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"released_on": "2027-04-12"}]}
    )
    released_on: IsoDate


class ReleaseRead(BaseModel):
    id: uuid.UUID
    version: int
    run_id: uuid.UUID
    fiscal_year: int
    line_code: str
    admin_code: str
    tranche: int
    amount_riel: int
    planned_on: date
    released_on: date | None
    delay_days: int | None = Field(
        description="released_on - planned_on; for a tranche not yet released, the days since "
        "its planned date (None before it)."
    )


def release_read(row: Release) -> ReleaseRead:
    return ReleaseRead(
        id=row.id, version=row.version, run_id=row.run_id, fiscal_year=row.fiscal_year,
        line_code=row.line_code, admin_code=row.admin_code, tranche=row.tranche,
        amount_riel=row.amount_riel, planned_on=row.planned_on, released_on=row.released_on,
        delay_days=service.delay_days(row, today()),
    )  # fmt: skip


async def _release(release_id: uuid.UUID, session: SessionDep, principal: PrincipalDep) -> Release:
    row = await repository.get_visible(session, principal, release_id, for_update=True)
    if row is None:
        raise Problem.not_found("The release")
    return row


ReleaseForChange = Annotated[Release, Depends(for_change(_release))]


@router.post(
    "/releases",
    status_code=201,
    responses={
        **{k: PROBLEM_RESPONSES[k] for k in (403, 422)},
        404: {
            **PROBLEM_RESPONSES[404],
            "description": "No allocation run `run_id` in your area (naming `run_id`).",
        },
    },
    summary="Plan a tranche of a unit's published allocation (the allocating unit's planner)",
    description="The tranches of a unit never add up to more than its allocation (422 naming "
    "`amount_riel`, with `allocated_riel`, `already_released_riel` and `available_riel`).",
)
async def plan_release(
    body: ReleasePlan, session: SessionDep, principal: Planner, idempotency: IdempotencyDep
) -> ReleaseRead:
    if idempotency.replay is not None:
        return idempotency.replay  # type: ignore[return-value]
    row = await service.plan(
        session, principal=principal, run_id=body.run_id, admin_code=body.admin_code,
        amount_riel=body.amount_riel, planned_on=body.planned_on,
    )  # fmt: skip
    return await idempotency.respond(  # type: ignore[return-value]
        201,
        release_read(row).model_dump(mode="json"),
        headers={"ETag": f'"{row.version}"', "Location": f"/releases/{row.id}"},
    )


@router.post(
    "/releases/{release_id}/record",
    responses={k: PROBLEM_RESPONSES[k] for k in (403, 404, 409, 412, 422, 428)},
    summary="Record that a planned tranche was released, on its actual date",
)
async def record_release(
    body: ReleaseRecord,
    release: ReleaseForChange,
    session: SessionDep,
    principal: Reader,
    response: Response,
) -> ReleaseRead:
    await service.record(
        session, principal=principal, release=release, released_on=body.released_on
    )
    set_etag(response, release.version)
    return release_read(release)


@router.get("/releases", summary="Releases to units in your area (cursor pages)")
async def list_releases(
    session: SessionDep,
    principal: Reader,
    page: PageDep,
    fiscal_year: int | None = None,
    line_code: LineCode | None = None,
    area: LocationCode | None = None,
) -> Page[ReleaseRead]:
    if area is not None and not principal.covers(area):
        raise Problem.not_found(f"The area {area}")
    rows, cursor = await repository.list_visible(
        session, principal, fiscal_year=fiscal_year, area=area, line_code=line_code, page=page
    )
    return Page(items=[release_read(r) for r in rows], next_cursor=cursor)


@router.get(
    "/releases/{release_id}", responses={404: PROBLEM_RESPONSES[404]}, summary="One release"
)
async def get_release(
    release_id: uuid.UUID, session: SessionDep, principal: Reader, response: Response
) -> ReleaseRead:
    row = await repository.get_visible(session, principal, release_id)
    if row is None:
        raise Problem.not_found("The release")
    set_etag(response, row.version)
    return release_read(row)
