"""Benefit record routes: provision of a programme's benefit to an enrolment."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from services.registry.access import BenefitForChange, BenefitRecorder
from services.registry.benefits import service
from services.registry.benefits.models import BenefitRecord
from services.registry.benefits.schemas import BenefitCreate, BenefitPublic, BenefitStatusChange
from services.registry.enrolments.models import Enrolment
from shared.db import SessionDep
from shared.http.concurrency import set_etag
from shared.http.idempotency import IdempotencyDep
from shared.http.pagination import Page, PageDep
from shared.principal import PrincipalDep
from shared.problems import PROBLEM_RESPONSES

router = APIRouter(tags=["benefits"])


def to_public(record: BenefitRecord, enrolment: Enrolment) -> BenefitPublic:
    return BenefitPublic(
        id=record.id,
        enrolment_id=enrolment.id,
        programme_code=enrolment.programme_code,
        household_id=enrolment.household_id,
        member_id=enrolment.member_id,
        period=record.period,
        amount_khr=record.amount_khr,
        in_kind_item=record.in_kind_item,
        channel=record.channel,
        delivered_on=record.delivered_on,
        status=record.status,
        status_reason=record.status_reason,
        created_at=record.created_at,
        created_by=record.created_by,
        version=record.version,
    )


@router.post(
    "/enrolments/{enrolment_id}/benefits",
    status_code=201,
    response_model=BenefitPublic,
    summary="Record a benefit",
    description="Record what an enrolled household or member receives for a period of the "
    "programme's kind (YYYY-MM monthly, YYYY-Qn quarterly, YYYY yearly): an amount in riel "
    "for a cash programme, the item for an in-kind one; the channel; the status (scheduled, "
    "or paid with its delivery date). One per enrolment and period (409 otherwise); only for "
    "`enrolled` enrolments (409). Registry officers and verifiers of the household's area. "
    "Accepts `Idempotency-Key`.",
    responses={k: PROBLEM_RESPONSES[k] for k in (403, 404, 409)},
)
async def record_benefit(
    enrolment_id: uuid.UUID,
    body: BenefitCreate,
    session: SessionDep,
    principal: BenefitRecorder,
    idempotency: IdempotencyDep,
) -> Response:
    if idempotency.replay:
        return idempotency.replay
    record, enrolment, _ = await service.record_benefit(
        session, principal=principal, enrolment_id=enrolment_id, data=body
    )
    return await idempotency.respond(
        201,
        to_public(record, enrolment),
        headers={"Location": f"/benefits/{record.id}", "ETag": f'"{record.version}"'},
    )


@router.get(
    "/enrolments/{enrolment_id}/benefits",
    response_model=Page[BenefitPublic],
    summary="List an enrolment's benefits",
    description="The enrolment's benefit records, oldest period first. 404 outside the "
    "caller's jurisdiction.",
    responses={404: PROBLEM_RESPONSES[404]},
)
async def list_enrolment_benefits(
    enrolment_id: uuid.UUID, session: SessionDep, principal: PrincipalDep, page: PageDep
) -> Page[BenefitPublic]:
    enrolment, rows, next_cursor = await service.list_benefits(
        session, principal=principal, enrolment_id=enrolment_id, page=page
    )
    return Page(items=[to_public(r, enrolment) for r in rows], next_cursor=next_cursor)


@router.get(
    "/benefits/{benefit_id}",
    response_model=BenefitPublic,
    summary="Get a benefit record",
    description="One benefit record with an ETag. 404 outside the caller's jurisdiction.",
    responses={404: PROBLEM_RESPONSES[404]},
)
async def get_benefit(
    benefit_id: uuid.UUID, session: SessionDep, principal: PrincipalDep, response: Response
) -> BenefitPublic:
    record, enrolment, _ = await service.get_benefit(
        session, principal=principal, benefit_id=benefit_id
    )
    set_etag(response, record.version)
    return to_public(record, enrolment)


@router.patch(
    "/benefits/{benefit_id}",
    response_model=BenefitPublic,
    summary="Change a benefit's status",
    description="scheduled -> paid or failed; failed -> paid; paid -> returned (409 "
    "otherwise). Marking paid needs `delivered_on`. Needs `If-Match`.",
    responses={k: PROBLEM_RESPONSES[k] for k in (403, 404, 409, 412, 428)},
)
async def update_benefit_status(
    body: BenefitStatusChange,
    current: BenefitForChange,
    session: SessionDep,
    principal: PrincipalDep,
    response: Response,
) -> BenefitPublic:
    record, enrolment, _ = await service.change_benefit_status(
        session,
        principal=principal,
        benefit_id=current.id,
        change=body,
        expected_version=current.version,
    )
    set_etag(response, record.version)
    return to_public(record, enrolment)
