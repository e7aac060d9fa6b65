"""The grievance snapshot's SQL: the outbox position and a page of grievance states."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.grievance.grievances.models import Grievance
from services.grievance.grievances.repository import visible_to
from shared.http.pagination import PageParams, paginate
from shared.principal import Principal

# As the registry's snapshot (services/registry/snapshots/repository.py): SHARE waits for
# every transaction writing outbox rows and keeps new ones out for this one statement, so
# every seq handed out up to the position belongs to a committed row or to none.
_LOCK = sa.text("LOCK TABLE outbox IN SHARE MODE")
_POSITION = sa.text(
    "SELECT coalesce(pg_sequence_last_value(pg_get_serial_sequence('outbox', 'seq')), 0), now()"
)


async def outbox_position(session: AsyncSession) -> tuple[int, datetime]:
    await session.execute(_LOCK)
    position, taken_at = (await session.execute(_POSITION)).one()
    return position, taken_at


async def grievance_states(
    session: AsyncSession, *, principal: Principal, page: PageParams
) -> tuple[list[sa.Row], str | None]:
    statement = sa.select(
        Grievance.id,
        Grievance.category,
        Grievance.location_code,
        Grievance.handling_tier,
        Grievance.handling_admin_code,
        Grievance.status,
        Grievance.decision,
        Grievance.household_id,
        Grievance.member_id,
        Grievance.reopen_count,
        Grievance.rating,
    ).where(
        # A machine client holding the snapshot scope (checked by the service) reads every
        # grievance; a person what `visible_to` lets them (area, and sensitive ones by role).
        sa.true() if principal.client else visible_to(principal)
    )
    return await paginate(session, statement, order_by=[Grievance.id], page=page)
