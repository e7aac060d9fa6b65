"""Emitting the grievance events of `shared.events.catalog.grievance` from a grievance row.

The payloads are built here, in one place, so no complainant data can slip into one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.grievance.grievances.models import Grievance
from services.grievance.routing import HandlingUnit
from shared.events.catalog import grievance as catalog
from shared.outbox import emit


def _common(grievance: Grievance) -> dict[str, Any]:
    return {
        "grievance_id": grievance.id,
        "category": grievance.category,
        "location_code": grievance.location_code,
        "handling_admin_code": grievance.handling_admin_code,
        "handling_tier": grievance.handling_tier,
    }


async def _emit(session: AsyncSession, grievance: Grievance, event, now: datetime) -> None:
    await emit(
        session, event, subject=grievance.id, jurisdiction=grievance.location_code, occurred_at=now
    )


async def submitted(session: AsyncSession, grievance: Grievance) -> None:
    event = catalog.GrievanceSubmitted(
        **_common(grievance),
        channel=grievance.channel,
        sensitive=grievance.sensitive,
        anonymous=grievance.anonymous,
        programme_code=grievance.programme_code,
        household_id=grievance.household_id,
        member_id=grievance.member_id,
        submitted_at=grievance.submitted_at,
    )
    await _emit(session, grievance, event, grievance.submitted_at)


async def acknowledged(session: AsyncSession, grievance: Grievance, now: datetime) -> None:
    event = catalog.GrievanceAcknowledged(**_common(grievance), acknowledged_at=now)
    await _emit(session, grievance, event, now)


async def in_progress(session: AsyncSession, grievance: Grievance, now: datetime) -> None:
    event = catalog.GrievanceInProgress(**_common(grievance), started_at=now)
    await _emit(session, grievance, event, now)


async def escalated(
    session: AsyncSession,
    grievance: Grievance,
    *,
    automatic: bool,
    from_unit: HandlingUnit,
    reason: str,
    now: datetime,
) -> None:
    event = catalog.GrievanceEscalated(
        **_common(grievance),
        automatic=automatic,
        from_tier=from_unit.tier.value,
        from_admin_code=from_unit.admin_code,
        to_tier=grievance.handling_tier,
        to_admin_code=grievance.handling_admin_code,
        reason=reason,
        escalated_at=now,
    )
    await _emit(session, grievance, event, now)


async def resolved(
    session: AsyncSession, grievance: Grievance, *, reassessment_requested: bool
) -> None:
    assert grievance.resolved_at is not None and grievance.decision is not None
    event = catalog.GrievanceResolved(
        **_common(grievance),
        decision=grievance.decision,
        household_id=grievance.household_id,
        member_id=grievance.member_id,
        programme_code=grievance.programme_code,
        resolution_summary=grievance.resolution_summary or "",
        resolved_at=grievance.resolved_at,
        reassessment_requested=reassessment_requested,
    )
    await _emit(session, grievance, event, grievance.resolved_at)


async def household_linked(
    session: AsyncSession,
    grievance: Grievance,
    previous_household_id,
    now: datetime,
) -> None:
    event = catalog.GrievanceHouseholdLinked(
        **_common(grievance),
        household_id=grievance.household_id,
        member_id=grievance.member_id,
        previous_household_id=previous_household_id,
        linked_at=now,
    )
    await _emit(session, grievance, event, now)


async def rejected(session: AsyncSession, grievance: Grievance, reason: str, now: datetime) -> None:
    event = catalog.GrievanceRejected(**_common(grievance), reason=reason, rejected_at=now)
    await _emit(session, grievance, event, now)


async def closed(
    session: AsyncSession, grievance: Grievance, now: datetime, *, automatic: bool
) -> None:
    event = catalog.GrievanceClosed(
        **_common(grievance), decision=grievance.decision, closed_at=now, automatic=automatic
    )
    await _emit(session, grievance, event, now)


async def reopened(session: AsyncSession, grievance: Grievance, now: datetime) -> None:
    event = catalog.GrievanceReopened(
        **_common(grievance), reopen_count=grievance.reopen_count, reopened_at=now
    )
    await _emit(session, grievance, event, now)


async def rated(session: AsyncSession, grievance: Grievance, rating: int, now: datetime) -> None:
    event = catalog.GrievanceRated(**_common(grievance), rating=rating, rated_at=now)
    await _emit(session, grievance, event, now)
