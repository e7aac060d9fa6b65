"""Staff routes of public-forum items: questions and issues raised, answers, and issues sent
to the grievance service."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response

from services.isaf.access import Reader, Recorder
from services.isaf.forums import repository, service
from services.isaf.forums.models import ForumItem
from services.isaf.forums.schemas import Answer, ForumItemCreate, ForumItemRead, SendToGrievance
from shared.clock import ClockDep
from shared.db import SessionDep
from shared.http.concurrency import for_change, set_etag
from shared.http.idempotency import IdempotencyDep
from shared.http.pagination import Page, PageDep
from shared.jurisdiction import require_in_jurisdiction
from shared.principal import PrincipalDep
from shared.problems import PROBLEM_RESPONSES, Problem

router = APIRouter(tags=["public forums"])

_WRITE = {k: PROBLEM_RESPONSES[k] for k in (403, 404, 409, 412, 428)}


def item_read(item: ForumItem) -> ForumItemRead:
    return ForumItemRead(
        id=item.id, version=item.version, activity_id=item.activity_id, cycle_id=item.cycle_id,
        location_code=item.location_code, place_code=item.place_code, kind=item.kind,
        text=item.text, answer=item.answer, category=item.category,
        sent_to_grievance_at=item.sent_to_grievance_at,
        grievance_tracking_code=item.grievance_tracking_code, raised_at=item.raised_at,
    )  # fmt: skip


@router.post(
    "/forum-items",
    status_code=201,
    responses={k: PROBLEM_RESPONSES[k] for k in (403, 404)},
    summary="Record a question or issue raised at a public forum (and the answer given)",
)
async def record_forum_item(
    body: ForumItemCreate, session: SessionDep, principal: Recorder, clock: ClockDep,
    idempotency: IdempotencyDep,
) -> ForumItemRead:  # fmt: skip
    if idempotency.replay is not None:
        return idempotency.replay  # type: ignore[return-value]
    item = await service.record(session, principal=principal, body=body, now=clock.now())
    return await idempotency.respond(  # type: ignore[return-value]
        201, item_read(item).model_dump(mode="json"),
        headers={"ETag": f'"{item.version}"', "Location": f"/forum-items/{item.id}"},
    )  # fmt: skip


@router.get("/forum-items", summary="Forum questions and issues in your area (cursor pages)")
async def list_forum_items(
    session: SessionDep, principal: Reader, page: PageDep, activity_id: uuid.UUID | None = None
) -> Page[ForumItemRead]:
    rows, cursor = await repository.list_visible(
        session, principal, activity_id=activity_id, page=page
    )
    return Page(items=[item_read(i) for i in rows], next_cursor=cursor)


@router.get(
    "/forum-items/{item_id}",
    responses={k: PROBLEM_RESPONSES[k] for k in (404,)},
    summary="One forum question or issue (with the grievance tracking code once logged)",
)
async def get_forum_item(
    item_id: uuid.UUID, session: SessionDep, principal: Reader, response: Response
) -> ForumItemRead:
    item = await repository.get_visible(session, principal, item_id)
    if item is None:
        raise Problem.not_found("The forum item")
    set_etag(response, item.version)
    return item_read(item)


async def _item_to_change(
    item_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> ForumItem:
    item = await repository.get(session, item_id)
    if item is None:
        raise Problem.not_found("The forum item")
    require_in_jurisdiction(principal, item.location_code, what="The forum item")
    return item


ItemForChange = Annotated[ForumItem, Depends(for_change(_item_to_change))]


@router.post(
    "/forum-items/{item_id}/answer",
    responses=_WRITE,
    summary="Record the answer given to a forum question or issue (If-Match)",
)
async def answer_forum_item(
    body: Answer, principal: Recorder, item: ItemForChange, session: SessionDep,
    response: Response,
) -> ForumItemRead:  # fmt: skip
    await service.answer(session, principal=principal, item=item, text=body.answer)
    set_etag(response, item.version)
    return item_read(item)


@router.post(
    "/forum-items/{item_id}/send-to-grievance",
    responses=_WRITE,
    summary="Send a forum issue to the grievance service as feedback (once; If-Match)",
    description="Emits isaf.forum.issue_raised; the grievance service logs it with channel "
    "public_forum and its tracking code comes back onto the issue "
    "(grievance.forum_issue_logged).",
)
async def send_to_grievance(
    body: SendToGrievance, principal: Recorder, item: ItemForChange, session: SessionDep,
    clock: ClockDep, response: Response,
) -> ForumItemRead:  # fmt: skip
    await service.send_to_grievance(session, item=item, category=body.category, now=clock.now())
    set_etag(response, item.version)
    return item_read(item)
