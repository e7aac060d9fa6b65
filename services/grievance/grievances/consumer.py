"""Late links: a grievance that named a household code the registry had not announced yet is
linked when the household's event arrives (`service.link_claimed`), with the public form's
rule (only inside the commune the citizen named)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.grievance.grievances import service
from shared.consumer import ConsumerContext, EventConsumer
from shared.events.catalog.registry import (
    HouseholdEvent,
    HouseholdMoved,
    HouseholdRegistered,
    HouseholdUpdated,
    HouseholdVerified,
)
from shared.events.envelope import CloudEvent

late_links = EventConsumer("grievance", "late-links")


async def _link(
    session: AsyncSession, event: HouseholdEvent, envelope: CloudEvent, context: ConsumerContext
) -> None:
    await service.link_claimed(
        session,
        household_id=event.household_id,
        household_code=event.household_code,
        village_code=event.village_code,
        now=context.clock.now(),
    )


for _event in (HouseholdRegistered, HouseholdVerified, HouseholdUpdated, HouseholdMoved):
    late_links.on(_event)(_link)
