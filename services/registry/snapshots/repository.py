"""The snapshot's SQL: the outbox position and a page of household states."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.households.models import Household, Member, MemberStatus
from shared.http.pagination import PageParams, paginate
from shared.jurisdiction import jurisdiction_filter
from shared.principal import Principal

# SHARE mode waits for every transaction that is writing outbox rows and keeps new writers
# out until this transaction ends: then every seq the outbox sequence has handed out belongs
# to a committed row or to none (rolled back), so "everything up to here" is a true statement
# about what any later read sees. Sequence values are taken only by inserts, which need the
# ROW EXCLUSIVE lock this one excludes. Held for one statement: writers wait milliseconds.
_LOCK = sa.text("LOCK TABLE outbox IN SHARE MODE")
_POSITION = sa.text(
    "SELECT coalesce(pg_sequence_last_value(pg_get_serial_sequence('outbox', 'seq')), 0), now()"
)


async def outbox_position(session: AsyncSession) -> tuple[int, datetime]:
    """The highest outbox seq handed out, all of whose rows up to it are committed, and the
    database's time; the caller's transaction must end right after (it holds the lock)."""
    await session.execute(_LOCK)
    position, taken_at = (await session.execute(_POSITION)).one()
    return position, taken_at


def _member_ids() -> sa.ScalarSelect:
    ids = pg.array_agg(pg.aggregate_order_by(Member.id, Member.id))
    return (
        sa.select(sa.func.coalesce(ids, sa.literal_column("'{}'::uuid[]")))
        .where(Member.household_id == Household.id, Member.status == MemberStatus.ACTIVE)
        .scalar_subquery()
    )


async def household_states(
    session: AsyncSession, *, principal: Principal, page: PageParams
) -> tuple[list[sa.Row], str | None]:
    """One page of households by id, each with its active members' ids, in one statement (so
    a household and its members are read at the same instant)."""
    statement = sa.select(
        Household.id,
        Household.code,
        Household.village_code,
        Household.status,
        Household.version,
        Household.poverty_level,
        _member_ids().label("member_ids"),
    ).where(
        # A machine client holding the snapshot scope (checked by the service) reads the
        # whole registry; a person reads their jurisdiction (the gateway admits national).
        sa.true() if principal.client else jurisdiction_filter(principal, Household.village_code)
    )
    return await paginate(session, statement, order_by=[Household.id], page=page)
