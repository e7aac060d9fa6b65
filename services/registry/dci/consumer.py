"""DCI subscribe/notify, driven by the registry's own events: each household or member event
becomes a notify message for the subscriptions it matches (queued here, in the consumer's
transaction; the delivery worker sends them with retries).

REGISTER is the moment a household becomes an active registry record (the district verified
it); registrations still pending verification are not announced to other systems.
"""

from __future__ import annotations

from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.dci import service
from shared.consumer import EventConsumer
from shared.events.catalog.registry import (
    HouseholdDissolved,
    HouseholdMoved,
    HouseholdUpdated,
    HouseholdVerified,
    MemberAdded,
    MemberRemoved,
    MemberUpdated,
    PovertyStatusChanged,
)
from shared.events.envelope import CloudEvent

consumer = EventConsumer("registry", "dci-notify")


async def _notify(
    session: AsyncSession,
    envelope: CloudEvent,
    *,
    reg_event_type: str,
    household_id: UUID,
    member_id: UUID | None = None,
) -> None:
    await service.notify_subscribers(
        session,
        reg_event_type=reg_event_type,
        household_id=household_id,
        member_id=member_id,
        event_id=f"{envelope.source}/{envelope.id}",
        occurred_at=envelope.time,
    )


@consumer.on(HouseholdVerified)
async def household_verified(session, event: HouseholdVerified, envelope: CloudEvent) -> None:
    await _notify(session, envelope, reg_event_type="REGISTER", household_id=event.household_id)


@consumer.on(HouseholdUpdated)
async def household_updated(session, event: HouseholdUpdated, envelope: CloudEvent) -> None:
    await _notify(session, envelope, reg_event_type="UPDATE", household_id=event.household_id)


@consumer.on(PovertyStatusChanged)
async def poverty_status_changed(
    session, event: PovertyStatusChanged, envelope: CloudEvent
) -> None:
    await _notify(session, envelope, reg_event_type="UPDATE", household_id=event.household_id)


@consumer.on(HouseholdMoved)
async def household_moved(session, event: HouseholdMoved, envelope: CloudEvent) -> None:
    await _notify(session, envelope, reg_event_type="MOVE", household_id=event.household_id)


@consumer.on(HouseholdDissolved)
async def household_dissolved(session, event: HouseholdDissolved, envelope: CloudEvent) -> None:
    await _notify(session, envelope, reg_event_type="DISSOLVE", household_id=event.household_id)


@consumer.on(MemberAdded)
async def member_added(session, event: MemberAdded, envelope: CloudEvent) -> None:
    await _notify(
        session,
        envelope,
        reg_event_type="NewHouseHoldMember",
        household_id=event.household_id,
        member_id=event.member_id,
    )


@consumer.on(MemberUpdated)
async def member_updated(session, event: MemberUpdated, envelope: CloudEvent) -> None:
    await _notify(
        session,
        envelope,
        reg_event_type="UPDATE",
        household_id=event.household_id,
        member_id=event.member_id,
    )


@consumer.on(MemberRemoved)
async def member_removed(session, event: MemberRemoved, envelope: CloudEvent) -> None:
    await _notify(
        session,
        envelope,
        reg_event_type="DEATH" if event.reason == "deceased" else "UPDATE",
        household_id=event.household_id,
        member_id=event.member_id,
    )
