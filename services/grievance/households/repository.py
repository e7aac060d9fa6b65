"""Queries on the household read model."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.grievance.households.models import HouseholdLocation, HouseholdMember


async def get(session: AsyncSession, household_id: uuid.UUID) -> HouseholdLocation | None:
    return await session.get(HouseholdLocation, household_id)


async def get_by_code(session: AsyncSession, household_code: str) -> HouseholdLocation | None:
    statement = select(HouseholdLocation).where(HouseholdLocation.household_code == household_code)
    return (await session.execute(statement.limit(1))).scalar_one_or_none()


async def upsert(
    session: AsyncSession,
    *,
    household_id: uuid.UUID,
    household_code: str,
    village_code: str,
    status: str,
    record_version: int,
    now: datetime,
) -> None:
    """Apply a registry event; an older version arriving late never overwrites a newer one."""
    values = {
        "household_id": household_id,
        "household_code": household_code,
        "village_code": village_code,
        "status": status,
        "record_version": record_version,
        "updated_at": now,
    }
    statement = insert(HouseholdLocation).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=[HouseholdLocation.household_id],
        set_={k: statement.excluded[k] for k in values if k != "household_id"},
        where=HouseholdLocation.record_version <= statement.excluded.record_version,
    )
    await session.execute(statement)


async def member(session: AsyncSession, member_id: uuid.UUID) -> HouseholdMember | None:
    return await session.get(HouseholdMember, member_id)


async def upsert_member(
    session: AsyncSession,
    *,
    member_id: uuid.UUID,
    household_id: uuid.UUID,
    status: str,
    record_version: int,
    now: datetime,
) -> None:
    """Apply a registry member event; an older version arriving late changes nothing."""
    values = {
        "member_id": member_id,
        "household_id": household_id,
        "status": status,
        "record_version": record_version,
        "updated_at": now,
    }
    statement = insert(HouseholdMember).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=[HouseholdMember.member_id],
        set_={k: statement.excluded[k] for k in values if k != "member_id"},
        where=HouseholdMember.record_version <= statement.excluded.record_version,
    )
    await session.execute(statement)
