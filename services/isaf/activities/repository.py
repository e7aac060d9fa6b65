"""Queries on activities; reads are limited to the caller's area here."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.isaf.activities.models import Activity
from services.isaf.areas import subtree
from shared.http.pagination import PageParams, paginate
from shared.jurisdiction import jurisdiction_filter
from shared.principal import Principal


def add(session: AsyncSession, activity: Activity) -> None:
    session.add(activity)


async def get(session: AsyncSession, activity_id: uuid.UUID) -> Activity | None:
    return await session.get(Activity, activity_id)


async def get_visible(
    session: AsyncSession, principal: Principal, activity_id: uuid.UUID
) -> Activity | None:
    statement = select(Activity).where(
        Activity.id == activity_id, jurisdiction_filter(principal, Activity.location_code)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def list_visible(
    session: AsyncSession, principal: Principal, *, cycle_id: uuid.UUID | None,
    activity_type: str | None, location: str | None, page: PageParams,
):  # fmt: skip
    statement = select(Activity).where(jurisdiction_filter(principal, Activity.location_code))
    if cycle_id:
        statement = statement.where(Activity.cycle_id == cycle_id)
    if activity_type:
        statement = statement.where(Activity.activity_type == activity_type)
    if location:
        statement = statement.where(subtree(location, Activity.location_code))
    return await paginate(session, statement, order_by=[Activity.id], page=page)
