"""The duplicate review queue over HTTP."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from services.registry import workflows
from services.registry.access import DuplicateForDecision
from services.registry.duplicates import disclosure, repository, service
from services.registry.duplicates.models import DuplicateCandidate, DuplicateReason, DuplicateStatus
from services.registry.duplicates.schemas import (
    ConfirmDuplicate,
    DismissDuplicate,
    DuplicateDetail,
    DuplicateSummary,
)
from services.registry.households import service as households
from shared.db.session import SessionDep
from shared.http.concurrency import set_etag
from shared.http.pagination import Page, PageDep, paginate
from shared.principal import PrincipalDep
from shared.problems import PROBLEM_RESPONSES

router = APIRouter(tags=["duplicates"])

_READ = {k: v for k, v in PROBLEM_RESPONSES.items() if k in (400, 404)}
_WRITE = {k: v for k, v in PROBLEM_RESPONSES.items() if k in (403, 404, 409, 412, 422, 428)}


@router.get(
    "/duplicates",
    summary="Duplicate review worklist",
    description=(
        "Suspected (or decided) duplicate household pairs where either household lies in the "
        "caller's area, oldest first. Filters: status, reason."
    ),
    response_model=Page[DuplicateSummary],
    responses=_READ,
)
async def list_duplicates(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    status: Annotated[DuplicateStatus | None, Query()] = DuplicateStatus.SUSPECTED,
    reason: Annotated[DuplicateReason | None, Query()] = None,
) -> Page[DuplicateSummary]:
    rows, next_cursor = await paginate(
        session,
        repository.worklist(principal, status=status, reason=reason),
        order_by=[DuplicateCandidate.flagged_at, DuplicateCandidate.id],
        page=page,
    )
    return Page(
        items=[DuplicateSummary.model_validate(disclosure.summary_for(principal, r)) for r in rows],
        next_cursor=next_cursor,
    )


@router.get(
    "/households/{household_id}/duplicates",
    summary="Duplicate candidates of a household",
    description=(
        "The candidates a household is part of (e.g. right after registering it: a "
        "registration that looks like an existing household is created pending verification "
        "and flagged here for the district to review)."
    ),
    response_model=Page[DuplicateSummary],
    responses=_READ,
)
async def list_household_duplicates(
    household_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
) -> Page[DuplicateSummary]:
    await households.visible_household(session, principal=principal, household_id=household_id)
    rows, next_cursor = await paginate(
        session,
        repository.worklist(principal, status=None, reason=None, household_id=household_id),
        order_by=[DuplicateCandidate.flagged_at, DuplicateCandidate.id],
        page=page,
    )
    return Page(
        items=[DuplicateSummary.model_validate(disclosure.summary_for(principal, r)) for r in rows],
        next_cursor=next_cursor,
    )


@router.get(
    "/duplicates/{candidate_id}",
    summary="A duplicate candidate, both households side by side",
    description=(
        "National ID and phone appear in full only for registry officers and verifiers whose "
        "area holds that household, masked otherwise. The read is audit-logged."
    ),
    response_model=DuplicateDetail,
    responses=_READ,
)
async def get_duplicate(
    candidate_id: uuid.UUID, session: SessionDep, principal: PrincipalDep, response: Response
) -> DuplicateDetail:
    detail = await service.read_candidate(session, principal=principal, candidate_id=candidate_id)
    set_etag(response, detail["version"])
    return DuplicateDetail.model_validate(detail)


@router.post(
    "/duplicates/{candidate_id}/dismiss",
    summary="Dismiss a suspected duplicate",
    description=(
        "The two households are different. A registry verifier of the district (or above) "
        "whose area holds both households; If-Match with the candidate's ETag."
    ),
    response_model=DuplicateSummary,
    responses=_WRITE,
)
async def dismiss_duplicate(
    body: DismissDuplicate,
    candidate: DuplicateForDecision,
    session: SessionDep,
    principal: PrincipalDep,
    response: Response,
) -> DuplicateSummary:
    candidate = await service.dismiss(
        session, principal=principal, candidate=candidate, reason=body.reason
    )
    set_etag(response, candidate.version)
    return DuplicateSummary.model_validate(disclosure.summary_for(principal, candidate))


@router.post(
    "/duplicates/{candidate_id}/confirm",
    summary="Confirm a duplicate and merge the two households",
    description=(
        "The surviving household keeps its code; the other is dissolved into it. Members "
        "judged identical are not copied; the others move with their enrolments. A registry "
        "verifier of the district (or above) whose area holds both households; If-Match."
    ),
    response_model=DuplicateSummary,
    responses=_WRITE,
)
async def confirm_duplicate(
    body: ConfirmDuplicate,
    candidate: DuplicateForDecision,
    session: SessionDep,
    principal: PrincipalDep,
    response: Response,
) -> DuplicateSummary:
    candidate = await workflows.confirm_duplicate(
        session, principal=principal, candidate=candidate, body=body
    )
    set_etag(response, candidate.version)
    return DuplicateSummary.model_validate(disclosure.summary_for(principal, candidate))
