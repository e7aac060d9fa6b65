"""Consumer of the grievance service's answer to a forum issue: the tracking code goes onto
the issue, so the forum (and the community) can follow it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.isaf.forums import service
from shared.consumer import EventConsumer
from shared.events.catalog.grievance import GrievanceForumIssueLogged
from shared.events.envelope import CloudEvent

forum_grievances = EventConsumer("isaf", "forum-grievances")


@forum_grievances.on(GrievanceForumIssueLogged)
async def tracking_code_arrived(
    session: AsyncSession, event: GrievanceForumIssueLogged, envelope: CloudEvent
) -> None:
    await service.tracking_code_arrived(
        session,
        issue_id=event.forum_issue_id,
        tracking_code=event.tracking_code,
        logged_at=event.logged_at,
    )
