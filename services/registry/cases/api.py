"""HTTP routes for cases: `/cases` (worklists) and one case's timeline and transitions."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from services.registry.access import CaseForChange, CaseForNote, CaseWorker
from services.registry.cases import service
from services.registry.cases.models import Case, CaseStatus, CaseType
from services.registry.cases.repository import CaseFilters
from services.registry.cases.schemas import (
    CaseAssign,
    CaseClose,
    CaseDetail,
    CaseNoteAdd,
    CaseNotePublic,
    CaseOpen,
    CasePublic,
)
from services.registry.config import Settings
from shared import clock
from shared.db.session import SessionDep
from shared.http.concurrency import set_etag
from shared.http.idempotency import IdempotencyDep
from shared.http.pagination import Page, PageDep
from shared.http.params import IsoDate
from shared.principal import PrincipalDep
from shared.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/cases", tags=["cases"])

_UPDATE_PROBLEMS = {k: PROBLEM_RESPONSES[k] for k in (403, 404, 409, 412, 428)}


def _detail(case: Case, notes) -> CaseDetail:
    return CaseDetail.model_validate(
        {
            **CasePublic.model_validate(case).model_dump(exclude={"overdue"}),
            "notes": [CaseNotePublic.model_validate(n) for n in notes],
        }
    )


@router.post(
    "",
    status_code=201,
    response_model=CaseDetail,
    summary="Open a case on a household",
    description=(
        "A registry officer or verifier opens a referral, follow-up, reassessment or "
        "protection case on a household of their area (optionally about one member). It is "
        "assigned to the household's commune unless another unit containing the household "
        "(within the caller's area) is named, and due in REGISTRY_CASE_DUE_DAYS days unless "
        "`due_on` is given. Send an `Idempotency-Key` so a retry does not open it twice."
    ),
    responses={k: PROBLEM_RESPONSES[k] for k in (403, 409)},
)
async def open_case(
    body: CaseOpen,
    request: Request,
    session: SessionDep,
    principal: CaseWorker,
    idempotency: IdempotencyDep,
) -> Response:
    if idempotency.replay:
        return idempotency.replay
    settings: Settings = request.app.state.settings
    case = await service.open_case(
        session,
        principal=principal,
        default_due_days=settings.case_due_days,
        **body.model_dump(),
    )
    _, notes = await service.get_case(session, principal=principal, case_id=case.id)
    return await idempotency.respond(
        201,
        _detail(case, notes),
        headers={"Location": f"/cases/{case.id}", "ETag": f'"{case.version}"'},
    )


@router.get(
    "",
    response_model=Page[CasePublic],
    summary="List cases (worklist)",
    description=(
        "Cases in the caller's area, most urgent first (due date, then opening time). "
        "Filters: the assigned unit (`assigned_admin_code`, exact; '' for national), the "
        "assigned person, status (repeatable), type, household, `due_before` (a date), and "
        "`overdue=true` (not closed and due before today, Phnom Penh time)."
    ),
)
async def list_cases(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    assigned_admin_code: Annotated[
        str | None, Query(pattern=r"^([0-9]{2}){0,3}$", description="Exact assigned unit.")
    ] = None,
    assignee_sub: Annotated[str | None, Query(max_length=200)] = None,
    status: Annotated[list[CaseStatus] | None, Query()] = None,
    case_type: Annotated[CaseType | None, Query()] = None,
    household_id: uuid.UUID | None = None,
    due_before: IsoDate | None = None,
    overdue: bool = False,
) -> Page[CasePublic]:
    filters = CaseFilters(
        assigned_admin_code=assigned_admin_code,
        assignee_sub=assignee_sub,
        status=[s.value for s in status] if status else None,
        case_type=case_type.value if case_type else None,
        household_id=household_id,
        due_before=due_before,
        overdue_on=clock.today() if overdue else None,
    )
    rows, next_cursor = await service.list_cases(
        session, principal=principal, filters=filters, page=page
    )
    return Page(items=[CasePublic.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.get(
    "/{case_id}",
    response_model=CaseDetail,
    summary="Read a case with its notes",
    description="The case and its notes timeline (oldest first), with its version as ETag.",
    responses={404: PROBLEM_RESPONSES[404]},
)
async def get_case(
    case_id: uuid.UUID, session: SessionDep, principal: PrincipalDep, response: Response
) -> CaseDetail:
    case, notes = await service.get_case(session, principal=principal, case_id=case_id)
    set_etag(response, case.version)
    return _detail(case, notes)


async def _respond(session, principal, case: Case, response: Response) -> CaseDetail:
    _, notes = await service.get_case(session, principal=principal, case_id=case.id)
    set_etag(response, case.version)
    return _detail(case, notes)


@router.post(
    "/{case_id}/assign",
    response_model=CaseDetail,
    summary="Assign a case to a unit and/or a person",
    description=(
        "Moves the case to another unit containing the household and within the caller's "
        "area (a district may give it to one of its communes or take it up itself), and/or "
        "names the person who must act, and/or sets a new due date. Changing the unit "
        "without naming a person clears the previous person. Needs `If-Match`."
    ),
    responses=_UPDATE_PROBLEMS,
)
async def assign_case(
    body: CaseAssign,
    case: CaseForChange,
    session: SessionDep,
    principal: PrincipalDep,
    response: Response,
) -> CaseDetail:
    await service.assign_case(session, principal=principal, case=case, **body.model_dump())
    return await _respond(session, principal, case, response)


@router.post(
    "/{case_id}/notes",
    status_code=201,
    response_model=CaseNotePublic,
    summary="Add a note to a case's timeline",
    description=(
        "Appends a note (author and time recorded). Notes are never edited, and adding one "
        "does not change the case's version, so no `If-Match` is needed. Closed cases take "
        "no notes (409)."
    ),
    responses={k: PROBLEM_RESPONSES[k] for k in (403, 404, 409)},
)
async def add_case_note(
    body: CaseNoteAdd, case: CaseForNote, session: SessionDep, principal: PrincipalDep
) -> CaseNotePublic:
    note = await service.add_note(session, principal=principal, case=case, text=body.text)
    return CaseNotePublic.model_validate(note)


@router.post(
    "/{case_id}/start",
    response_model=CaseDetail,
    summary="Start work on a case",
    description=(
        "open -> in_progress; the caller becomes the assignee if nobody was. Any other "
        "status answers 409. Needs `If-Match`."
    ),
    responses=_UPDATE_PROBLEMS,
)
async def start_case(
    case: CaseForChange, session: SessionDep, principal: PrincipalDep, response: Response
) -> CaseDetail:
    await service.start_case(session, principal=principal, case=case)
    return await _respond(session, principal, case, response)


@router.post(
    "/{case_id}/close",
    response_model=CaseDetail,
    summary="Close a case with its outcome",
    description="open or in_progress -> closed, with the outcome. Needs `If-Match`.",
    responses=_UPDATE_PROBLEMS,
)
async def close_case(
    body: CaseClose,
    case: CaseForChange,
    session: SessionDep,
    principal: PrincipalDep,
    response: Response,
) -> CaseDetail:
    await service.close_case(session, principal=principal, case=case, outcome=body.outcome)
    return await _respond(session, principal, case, response)
