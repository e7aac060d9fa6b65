"""Support requests between tiers: submitted by a commune or district, reviewed, decided and
fulfilled only by the addressed unit (403 naming `addressed_admin_code` otherwise)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field

from services.budget import roles
from services.budget.amounts import riel
from services.budget.codes import SUPPORT_TYPES, SupportStatus
from services.budget.support import repository, service
from services.budget.support.models import SupportRequest
from shared.db import SessionDep
from shared.events.catalog.isaf import SupportRequestType
from shared.http.concurrency import for_change, set_etag
from shared.http.idempotency import IdempotencyDep
from shared.http.pagination import Page, PageDep
from shared.principal import Principal, PrincipalDep
from shared.problems import PROBLEM_RESPONSES, Problem
from shared.text import Text
from shared.tiers import Tier

router = APIRouter(tags=["support requests"])

Reader = Annotated[Principal, Depends(roles.READER)]
Planner = Annotated[Principal, Depends(roles.PLANNING)]
Decider = Annotated[Principal, Depends(roles.DECIDING)]
_WRITE = {k: PROBLEM_RESPONSES[k] for k in (403, 404, 409, 412, 422, 428)}


class SupportRequestCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"addressed_tier": "dmk",
                                         "request_type": "training_workshop",
                                         "description": "Training of CAFs on the scorecard",
                                         "amount_riel": 2_400_000}]},
    )  # fmt: skip
    addressed_tier: Literal["national", "cp", "dmk"] = Field(
        description="Your parent or grandparent tier."
    )
    request_type: SupportRequestType
    description: Annotated[Text, Field(min_length=1, max_length=2000)]
    amount_riel: riel(ge=0, le=10**15)  # type: ignore[valid-type]


class SupportDecision(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"decision": "approved"},
                {"decision": "partly_approved", "approved_amount_riel": 1_000_000,
                 "reason": "One training this quarter, the second next year."},
                {"decision": "rejected", "reason": "Covered by the provincial training plan."},
            ]
        },
    )  # fmt: skip
    decision: Literal["approved", "partly_approved", "rejected"]
    approved_amount_riel: riel(ge=0, le=10**15, optional=True) = None  # type: ignore[valid-type]
    reason: Annotated[Text, Field(max_length=2000)] = ""


class SupportRequestRead(BaseModel):
    id: uuid.UUID
    version: int
    fiscal_year: int
    requesting_tier: str
    requesting_admin_code: str
    addressed_tier: str
    addressed_admin_code: str
    request_type: str
    request_type_km: str
    request_type_en: str
    description: str
    amount_riel: int
    approved_amount_riel: int | None
    status: SupportStatus
    reason: str
    isaf_action_id: uuid.UUID | None
    submitted_at: datetime
    reviewed_at: datetime | None
    decided_at: datetime | None
    fulfilled_at: datetime | None


def support_read(row: SupportRequest) -> SupportRequestRead:
    km, en = SUPPORT_TYPES[row.request_type]
    return SupportRequestRead(
        id=row.id, version=row.version, fiscal_year=row.fiscal_year,
        requesting_tier=row.requesting_tier, requesting_admin_code=row.requesting_admin_code,
        addressed_tier=row.addressed_tier, addressed_admin_code=row.addressed_admin_code,
        request_type=row.request_type, request_type_km=km, request_type_en=en,
        description=row.description, amount_riel=row.amount_riel,
        approved_amount_riel=row.approved_amount_riel, status=row.status, reason=row.reason,
        isaf_action_id=row.isaf_action_id, submitted_at=row.submitted_at,
        reviewed_at=row.reviewed_at, decided_at=row.decided_at, fulfilled_at=row.fulfilled_at,
    )  # fmt: skip


async def _request(
    request_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> SupportRequest:
    row = await repository.get_visible(session, principal, request_id, for_update=True)
    if row is None:
        raise Problem.not_found("The support request")
    return row


RequestForChange = Annotated[SupportRequest, Depends(for_change(_request))]


@router.post(
    "/support-requests",
    status_code=201,
    responses={k: PROBLEM_RESPONSES[k] for k in (403, 422)},
    summary="Ask your parent or grandparent tier for support",
    description="A commune/sangkat asks its district/khan (dmk) or province/capital (cp); a "
    "district asks its province (cp) or the national tier.",
)
async def submit_support_request(
    body: SupportRequestCreate,
    session: SessionDep,
    principal: Planner,
    idempotency: IdempotencyDep,
) -> SupportRequestRead:
    if idempotency.replay is not None:
        return idempotency.replay  # type: ignore[return-value]
    if principal.tier is None:
        raise Problem.forbidden("Support is asked by a unit.")
    row = await service.submit(
        session, requesting_tier=principal.tier, requesting_admin_code=principal.admin_code,
        addressed_tier=Tier(body.addressed_tier), request_type=body.request_type,
        description=body.description, amount_riel=body.amount_riel,
        submitted_by=principal.sub,
    )  # fmt: skip
    return await idempotency.respond(  # type: ignore[return-value]
        201,
        support_read(row).model_dump(mode="json"),
        headers={"ETag": f'"{row.version}"', "Location": f"/support-requests/{row.id}"},
    )


@router.get(
    "/support-requests",
    summary="Support requests from units in your area (cursor pages, oldest first)",
    description="`addressed_to_me=true`: only those your unit decides.",
)
async def list_support_requests(
    session: SessionDep,
    principal: Reader,
    page: PageDep,
    status: SupportStatus | None = None,
    addressed_to_me: bool = False,
    fiscal_year: int | None = None,
) -> Page[SupportRequestRead]:
    rows, cursor = await repository.list_visible(
        session, principal, status=status, addressed_to_me=addressed_to_me,
        fiscal_year=fiscal_year, page=page,
    )  # fmt: skip
    return Page(items=[support_read(r) for r in rows], next_cursor=cursor)


@router.get(
    "/support-requests/{request_id}",
    responses={404: PROBLEM_RESPONSES[404]},
    summary="One support request",
)
async def get_support_request(
    request_id: uuid.UUID, session: SessionDep, principal: Reader, response: Response
) -> SupportRequestRead:
    row = await repository.get_visible(session, principal, request_id)
    if row is None:
        raise Problem.not_found("The support request")
    set_etag(response, row.version)
    return support_read(row)


@router.post(
    "/support-requests/{request_id}/review",
    responses=_WRITE,
    summary="Take a submitted request under review (the addressed unit)",
)
async def review_support_request(
    row: RequestForChange, session: SessionDep, principal: Decider, response: Response
) -> SupportRequestRead:
    await service.review(session, principal=principal, row=row)
    set_etag(response, row.version)
    return support_read(row)


@router.post(
    "/support-requests/{request_id}/decide",
    responses=_WRITE,
    summary="Approve, partly approve or reject a request (the addressed unit)",
    description="A partial approval names `approved_amount_riel` (less than asked); a "
    "rejection gives a `reason`. A JAAP action's request sends the decision back to I-SAF.",
)
async def decide_support_request(
    body: SupportDecision,
    row: RequestForChange,
    session: SessionDep,
    principal: Decider,
    response: Response,
) -> SupportRequestRead:
    await service.decide(
        session, principal=principal, row=row, decision=body.decision,
        approved_amount_riel=body.approved_amount_riel, reason=body.reason,
    )  # fmt: skip
    set_etag(response, row.version)
    return support_read(row)


@router.post(
    "/support-requests/{request_id}/fulfil",
    responses=_WRITE,
    summary="Mark an approved request fulfilled (the addressed unit)",
)
async def fulfil_support_request(
    row: RequestForChange, session: SessionDep, principal: Decider, response: Response
) -> SupportRequestRead:
    await service.fulfil(session, principal=principal, row=row)
    set_etag(response, row.version)
    return support_read(row)
