"""Consumers of the registry's household and member events, keeping the read model the
poverty-weighted and member-based indicators are counted from.

Idempotent twice over: the runner's inbox drops a redelivered event, and every row keeps the
record version it holds, so an older event arriving late changes nothing.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.budget.indicators import repository
from shared.consumer import ConsumerContext, EventConsumer
from shared.events.catalog.registry import (
    HouseholdDissolved,
    HouseholdEvent,
    HouseholdMoved,
    HouseholdRegistered,
    HouseholdReturned,
    HouseholdUpdated,
    HouseholdVerified,
    MemberAdded,
    MemberEvent,
    MemberRemoved,
    MemberUpdated,
    PovertyStatusChanged,
)
from shared.events.envelope import CloudEvent

households = EventConsumer("budget", "households")


async def _keep(
    session: AsyncSession, event: HouseholdEvent, envelope: CloudEvent, context: ConsumerContext
) -> None:
    now = context.clock.now()
    await repository.upsert_household(
        session,
        household_id=event.household_id,
        village_code=event.village_code,
        status=event.status,
        record_version=event.record_version,
        poverty_level=event.level if isinstance(event, PovertyStatusChanged) else None,
        now=now,
    )
    # A new household announces its members with it (member.added is for later arrivals).
    for member in getattr(event, "members", None) or ():
        await repository.upsert_member(
            session,
            member_id=member.member_id,
            household_id=event.household_id,
            birth_year=member.birth_year,
            status="active",
            record_version=1,
            now=now,
        )


for _event in (
    HouseholdRegistered,
    HouseholdVerified,
    HouseholdReturned,
    HouseholdUpdated,
    HouseholdMoved,
    HouseholdDissolved,
    PovertyStatusChanged,
):
    households.on(_event)(_keep)


members = EventConsumer("budget", "members")


async def _keep_member(
    session: AsyncSession, event: MemberEvent, envelope: CloudEvent, context: ConsumerContext
) -> None:
    await repository.upsert_member(
        session,
        member_id=event.member_id,
        household_id=event.household_id,
        birth_year=getattr(event, "birth_year", None),
        status="removed" if isinstance(event, MemberRemoved) else "active",
        record_version=event.record_version,
        now=context.clock.now(),
        # Only member.added carries the birth year; an update or removal keeps the one known.
        keep_birth_year=not isinstance(event, MemberAdded),
    )


for _member_event in (MemberAdded, MemberUpdated, MemberRemoved):
    members.on(_member_event)(_keep_member)
