"""Consumer of the registry's household events, keeping the household read model.

A grievance linked to a household is placed at the household's village, so its commune
handles it (see `grievances.service.record_intake`).

Adding a consumer is one handler: register it on an `EventConsumer` and list that consumer
in `services.grievance.consumers.CONSUMERS`. For example, when the I-SAF service publishes
public-forum issues, logging each as feedback is:

    feedback = EventConsumer("grievance", "isaf-feedback")

    @feedback.on(PublicForumIssueRaised)
    async def log_forum_issue(session, event, envelope):
        await grievance_service.submit(session, intake=..., channel="public_forum", ...)

The runner gives the handler its transaction, deduplicates redeliveries through the inbox
and dead-letters poison messages; the handler only says what the event means here.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.grievance.households import repository
from shared.consumer import ConsumerContext, EventConsumer
from shared.events.catalog.registry import (
    HouseholdDissolved,
    HouseholdEvent,
    HouseholdMoved,
    HouseholdRegistered,
    HouseholdUpdated,
    HouseholdVerified,
    MemberAdded,
    MemberEvent,
    MemberRemoved,
    MemberUpdated,
)
from shared.events.envelope import CloudEvent

households = EventConsumer("grievance", "households")


async def _keep(
    session: AsyncSession, event: HouseholdEvent, envelope: CloudEvent, context: ConsumerContext
) -> None:
    await repository.upsert(
        session,
        household_id=event.household_id,
        household_code=event.household_code,
        village_code=event.village_code,
        status=event.status,
        record_version=event.record_version,
        now=context.clock.now(),
    )
    # A new household announces its members with it (member.added is for later arrivals).
    for member in getattr(event, "members", None) or ():
        await repository.upsert_member(
            session,
            member_id=member.member_id,
            household_id=event.household_id,
            status="active",
            record_version=1,
            now=context.clock.now(),
        )


for _event in (
    HouseholdRegistered,
    HouseholdVerified,
    HouseholdUpdated,
    HouseholdMoved,
    HouseholdDissolved,
):
    households.on(_event)(_keep)


members = EventConsumer("grievance", "members")


async def _keep_member(
    session: AsyncSession, event: MemberEvent, envelope: CloudEvent, context: ConsumerContext
) -> None:
    await repository.upsert_member(
        session,
        member_id=event.member_id,
        household_id=event.household_id,
        status="removed" if isinstance(event, MemberRemoved) else "active",
        record_version=event.record_version,
        now=context.clock.now(),
    )


for _member_event in (MemberAdded, MemberUpdated, MemberRemoved):
    members.on(_member_event)(_keep_member)
