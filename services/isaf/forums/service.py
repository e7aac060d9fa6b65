"""The rules of public-forum items: recorded against a public forum of the caller's area;
an issue is sent to the grievance service once, through `isaf.forum.issue_raised`, and its
tracking code arrives with `grievance.forum_issue_logged`."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.isaf.activities import repository as activities
from services.isaf.areas import require_within
from services.isaf.codes import ActivityType, ForumItemKind
from services.isaf.forums import repository
from services.isaf.forums.models import ForumItem
from services.isaf.forums.schemas import ForumItemCreate
from shared.events.catalog.isaf import ForumIssueRaised
from shared.jurisdiction import require_in_jurisdiction
from shared.outbox import emit
from shared.principal import Principal
from shared.problems import Problem


async def record(
    session: AsyncSession, *, principal: Principal, body: ForumItemCreate, now: datetime
) -> ForumItem:
    forum = await activities.get(session, body.activity_id)
    if forum is None or forum.activity_type != ActivityType.PUBLIC_FORUM:
        raise Problem.invalid("activity_id", "no such public forum", status=404)
    require_in_jurisdiction(principal, forum.location_code, what="The public forum")
    place = body.place_code or forum.village_code or forum.location_code
    require_within(forum.location_code, place, field="place_code")
    item = ForumItem(
        id=uuid.uuid4(), activity_id=forum.id, cycle_id=forum.cycle_id,
        location_code=forum.location_code, place_code=place, kind=body.kind, text=body.text,
        answer=body.answer, answered_by=principal.sub if body.answer else None,
        raised_at=now, recorded_by=principal.sub,
    )  # fmt: skip
    repository.add(session, item)
    await session.flush()
    return item


async def answer(
    session: AsyncSession, *, principal: Principal, item: ForumItem, text: str
) -> ForumItem:
    item.answer = text
    item.answered_by = principal.sub
    await session.flush()
    return item


async def send_to_grievance(
    session: AsyncSession, *, item: ForumItem, category: str, now: datetime
) -> ForumItem:
    if item.kind != ForumItemKind.ISSUE:
        raise Problem.invalid("kind", "only an issue is sent to the grievance service")
    if item.sent_to_grievance_at is not None:
        raise Problem.conflict("The issue was already sent to the grievance service.")
    if len(item.place_code) < 6:
        raise Problem.invalid(
            "place_code", "a khan's forum issue names the commune or village it concerns"
        )
    forum = await activities.get(session, item.activity_id)
    assert forum is not None
    item.category = category
    item.sent_to_grievance_at = now
    await session.flush()
    await emit(
        session,
        ForumIssueRaised(
            forum_id=item.activity_id, issue_id=item.id, cycle_id=item.cycle_id,
            commune_code=item.place_code[:6], location_code=item.place_code,
            category=category, text=item.text, raised_on=forum.held_on,
            raised_at=now,
        ),
        subject=item.id, jurisdiction=item.location_code, occurred_at=now,
    )  # fmt: skip
    return item


async def tracking_code_arrived(
    session: AsyncSession, *, issue_id: uuid.UUID, tracking_code: str, logged_at: datetime
) -> None:
    item = await repository.get(session, issue_id)
    if item is None or item.grievance_tracking_code == tracking_code:
        return
    item.grievance_tracking_code = tracking_code
    item.grievance_logged_at = logged_at
    await session.flush()
