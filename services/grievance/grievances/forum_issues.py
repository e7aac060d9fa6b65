"""Consumer of I-SAF's `isaf.forum.issue_raised`: an issue raised at a public forum is logged
as feedback with channel `public_forum` (anonymous: it was raised in public, by the
community), and `grievance.forum_issue_logged` carries its tracking code back to the forum.

Deduplicated twice: the runner's inbox drops a redelivered event, and an issue already logged
(the same issue sent in another event) is not logged again; the answer is emitted again, so
the forum gets its code in any case.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.grievance.codes import Category, Channel, TimelineKind
from services.grievance.grievances import repository, service
from services.grievance.grievances.models import TimelineEntry
from services.grievance.grievances.schemas import IntakeBase
from services.grievance.grievances.tracking_code import display
from shared.consumer import ConsumerContext, EventConsumer
from shared.events.catalog.grievance import GrievanceForumIssueLogged
from shared.events.catalog.isaf import ForumIssueRaised
from shared.events.envelope import CloudEvent
from shared.outbox import emit

forum_issues = EventConsumer("grievance", "isaf-forum-issues")

ACTOR = "isaf:public_forum"


@forum_issues.on(ForumIssueRaised)
async def log_forum_issue(
    session: AsyncSession, event: ForumIssueRaised, envelope: CloudEvent, context: ConsumerContext
) -> None:
    now = context.clock.now()
    grievance = await repository.find_by_forum_issue(session, event.issue_id)
    if grievance is None:
        category = event.category if event.category in set(Category) else Category.OTHER
        intake = IntakeBase(category=category, description=event.text[:4000], anonymous=True)
        grievance = await service.submit(
            session, intake=intake, channel=Channel.PUBLIC_FORUM,
            location_code=event.location_code, household_id=None, member_id=None,
            submitted_by=ACTOR, now=now,
        )  # fmt: skip
        repository.add_timeline_entry(
            session,
            TimelineEntry(
                grievance_id=grievance.id, occurred_at=now, kind=TimelineKind.INTERNAL_NOTE,
                public=False, text=f"Raised at the I-SAF public forum of {event.raised_on}.",
                actor=ACTOR,
                details={"forum_issue_id": str(event.issue_id), "forum_id": str(event.forum_id),
                         "cycle_id": str(event.cycle_id)},
            ),
        )  # fmt: skip
        await session.flush()
    await emit(
        session,
        GrievanceForumIssueLogged(
            grievance_id=grievance.id, category=grievance.category,
            location_code=grievance.location_code,
            handling_admin_code=grievance.handling_admin_code,
            handling_tier=grievance.handling_tier, forum_issue_id=event.issue_id,
            tracking_code=display(grievance.tracking_code), logged_at=now,
        ),
        subject=grievance.id, jurisdiction=grievance.location_code, occurred_at=now,
    )  # fmt: skip
