"""HTTP routes for change requests: `/change-requests` and each request's transitions."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Query, Request, Response

from services.registry.access import ChangeRequestForAction
from services.registry.change_requests import service
from services.registry.change_requests.models import (
    ChangeRequest,
    ChangeRequestStatus,
    ChangeType,
)
from services.registry.change_requests.repository import ChangeRequestFilters
from services.registry.change_requests.schemas import (
    Cancellation,
    ChangeRequestCreate,
    ChangeRequestPublic,
    Rejection,
    masked,
)
from services.registry.households.schemas import sees_sensitive
from shared.db.session import SessionDep
from shared.gazetteer import LocationCode
from shared.http.concurrency import set_etag
from shared.http.idempotency import IdempotencyDep
from shared.http.pagination import Page, PageDep
from shared.principal import Principal, PrincipalDep
from shared.problems import PROBLEM_RESPONSES, problem_response

router = APIRouter(prefix="/change-requests", tags=["change requests"])

_ACTION_PROBLEMS = {k: PROBLEM_RESPONSES[k] for k in (403, 404, 409, 412, 428)}


def _public(request: ChangeRequest, principal: Principal) -> ChangeRequestPublic:
    public = ChangeRequestPublic.model_validate(request)
    if not sees_sensitive(principal.roles):
        public = public.model_copy(update={"payload": masked(public.payload)})
    return public


def _answer(request: ChangeRequest, principal: Principal, response: Response):
    set_etag(response, request.version)
    return _public(request, principal)


@router.post(
    "",
    status_code=201,
    response_model=ChangeRequestPublic,
    summary="Draft a change request",
    description=(
        "A registry officer of the household's commune drafts a change: `change_type` selects "
        "the shape of the body (register_household, update_household, add_member, "
        "update_member, remove_member, change_head, move_household, change_poverty_status, "
        "enrol, exit). The change is validated now, against the same rules as direct edits; "
        "the household must be active (verified): before verification the commune edits it "
        "directly (409). Send an `Idempotency-Key`."
    ),
    responses={k: PROBLEM_RESPONSES[k] for k in (403, 409)},
)
async def create_change_request(
    change: Annotated[ChangeRequestCreate, Body()],
    session: SessionDep,
    principal: PrincipalDep,
    idempotency: IdempotencyDep,
) -> Response:
    if idempotency.replay:
        return idempotency.replay
    request = await service.create_change_request(session, principal=principal, change=change)
    return await idempotency.respond(
        201,
        _public(request, principal),
        headers={
            "Location": f"/change-requests/{request.id}",
            "ETag": f'"{request.version}"',
        },
    )


@router.get(
    "",
    response_model=Page[ChangeRequestPublic],
    summary="List change requests (worklist)",
    description=(
        "Change requests whose household (or, for a move, destination) lies in the caller's "
        "area, oldest first. `awaiting_me=true` keeps what the caller's unit must act on next: "
        "for a commune, its drafts to submit and moves into it to accept; for a district, "
        "what awaits its verification; for a province or national verifier, what awaits any "
        "district of its area. Filters: status (repeatable), change_type, household, "
        "`location` (a unit or village code inside the caller's area)."
    ),
)
async def list_change_requests(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    status: Annotated[list[ChangeRequestStatus] | None, Query()] = None,
    change_type: Annotated[ChangeType | None, Query()] = None,
    household_id: uuid.UUID | None = None,
    location: Annotated[LocationCode | None, Query()] = None,
    awaiting_me: bool = False,
) -> Page[ChangeRequestPublic]:
    filters = ChangeRequestFilters(
        status=[s.value for s in status] if status else None,
        change_type=change_type.value if change_type else None,
        household_id=household_id,
        location_code=location,
        awaiting_me=awaiting_me,
    )
    rows, next_cursor = await service.list_change_requests(
        session, principal=principal, filters=filters, page=page
    )
    return Page(items=[_public(r, principal) for r in rows], next_cursor=next_cursor)


@router.get(
    "/{change_request_id}",
    response_model=ChangeRequestPublic,
    summary="Read a change request",
    description="One change request, with its version as ETag.",
    responses={404: PROBLEM_RESPONSES[404]},
)
async def get_change_request(
    change_request_id: uuid.UUID, session: SessionDep, principal: PrincipalDep, response: Response
) -> ChangeRequestPublic:
    request = await service.get_change_request(
        session, principal=principal, change_request_id=change_request_id
    )
    return _answer(request, principal, response)


@router.post(
    "/{change_request_id}/submit",
    response_model=ChangeRequestPublic,
    summary="Submit a draft change request for verification",
    description=(
        "draft -> submitted, by a registry officer of the household's commune. The household's "
        "version is recorded (`base_version`) for conflict detection. A move into another "
        "commune then awaits the destination commune's acceptance; anything else awaits the "
        "district's verification. Needs `If-Match`."
    ),
    responses=_ACTION_PROBLEMS,
)
async def submit_change_request(
    change_request: ChangeRequestForAction,
    session: SessionDep,
    principal: PrincipalDep,
    response: Response,
) -> ChangeRequestPublic:
    await service.submit(session, principal=principal, request=change_request)
    return _answer(change_request, principal, response)


@router.post(
    "/{change_request_id}/accept-move",
    response_model=ChangeRequestPublic,
    summary="Accept a household moving into one's commune",
    description=(
        "A registry officer of the destination commune accepts a submitted move from another "
        "commune; the district(s) verify it next. To refuse it, reject it with a reason. "
        "Needs `If-Match`."
    ),
    responses=_ACTION_PROBLEMS,
)
async def accept_household_move(
    change_request: ChangeRequestForAction,
    session: SessionDep,
    principal: PrincipalDep,
    response: Response,
) -> ChangeRequestPublic:
    await service.accept_move(session, principal=principal, request=change_request)
    return _answer(change_request, principal, response)


@router.post(
    "/{change_request_id}/verify",
    response_model=ChangeRequestPublic,
    summary="Verify a change request (applies it)",
    description=(
        "A registry verifier of the district (DMK) or above, who is not its maker, verifies a "
        "submitted request; the last verification needed applies the change. Drafts answer "
        "409 at every tier. If the household changed since submission the request is "
        "rejected with reason `version conflict` and the answer is 409 (nothing overwritten). "
        "A move across districts is verified by the destination district, then the origin "
        "district. Needs `If-Match`."
    ),
    responses=_ACTION_PROBLEMS,
)
async def verify_change_request(
    change_request: ChangeRequestForAction,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    response: Response,
) -> ChangeRequestPublic | Response:
    _, refusal = await service.verify(session, principal=principal, request=change_request)
    if refusal is not None:
        # Returned, not raised: the request's rejection commits with this answer.
        answer = problem_response(request, refusal)
        answer.headers["ETag"] = f'"{change_request.version}"'
        return answer
    return _answer(change_request, principal, response)


@router.post(
    "/{change_request_id}/reject",
    response_model=ChangeRequestPublic,
    summary="Reject a change request with a reason",
    description=(
        "A verifier of the district or above rejects a submitted request; the destination "
        "commune may also refuse a move it has not accepted. Drafts are cancelled by their "
        "commune instead (409). Needs `If-Match`."
    ),
    responses=_ACTION_PROBLEMS,
)
async def reject_change_request(
    body: Rejection,
    change_request: ChangeRequestForAction,
    session: SessionDep,
    principal: PrincipalDep,
    response: Response,
) -> ChangeRequestPublic:
    await service.reject(session, principal=principal, request=change_request, reason=body.reason)
    return _answer(change_request, principal, response)


@router.post(
    "/{change_request_id}/cancel",
    response_model=ChangeRequestPublic,
    summary="Withdraw a change request",
    description=(
        "The household's commune withdraws its draft or submitted request (409 once decided). "
        "Needs `If-Match`."
    ),
    responses=_ACTION_PROBLEMS,
)
async def cancel_change_request(
    change_request: ChangeRequestForAction,
    session: SessionDep,
    principal: PrincipalDep,
    response: Response,
    body: Cancellation | None = None,
) -> ChangeRequestPublic:
    await service.cancel(
        session,
        principal=principal,
        request=change_request,
        reason=body.reason if body else None,
    )
    return _answer(change_request, principal, response)
