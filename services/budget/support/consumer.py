"""Consumer of the I-SAF service's JAAP events: a JAAP action's budget need becomes a support
request carrying `isaf_action_id`; the decision flows back as `budget.support_request.decided`
(which the I-SAF service consumes onto the action).

Idempotent: the runner's inbox drops a redelivered event, and one action opens at most one
request (unique `isaf_action_id`)."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from services.budget.support import repository, service
from shared.consumer import EventConsumer
from shared.events.catalog.isaf import JaapActionSupportRequested
from shared.events.envelope import CloudEvent
from shared.problems import Problem
from shared.tiers import Tier

log = logging.getLogger(__name__)

jaap = EventConsumer("budget", "isaf-jaap")


@jaap.on(JaapActionSupportRequested)
async def open_support_request(
    session: AsyncSession, event: JaapActionSupportRequested, envelope: CloudEvent
) -> None:
    if await repository.by_isaf_action(session, event.action_id) is not None:
        return
    if len(event.requesting_admin_code) != 6 or not event.requesting_admin_code.isdigit():
        log.warning("JAAP action %s names no commune; not opened", event.action_id)
        return
    try:
        row = await service.submit(
            session,
            requesting_tier=Tier.CS,
            requesting_admin_code=event.requesting_admin_code,
            addressed_tier=Tier(event.addressed_tier),
            request_type=event.request_type,
            description=event.description,
            amount_riel=event.amount_riel,
            submitted_by="isaf:" + str(event.jaap_id),
            isaf_action_id=event.action_id,
            submitted_at=event.requested_at,
        )
    except Problem as problem:
        log.warning("JAAP action %s not opened: %s", event.action_id, problem.detail)
        return
    if row.addressed_admin_code != event.addressed_admin_code:
        log.warning(
            "JAAP action %s addressed %s; the request goes to %s, the commune's %s",
            event.action_id, event.addressed_admin_code, row.addressed_admin_code,
            event.addressed_tier,
        )  # fmt: skip
