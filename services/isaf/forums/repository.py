"""Queries on public-forum items; reads are limited to the caller's area here."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.isaf.forums.models import ForumItem
from shared.http.pagination import PageParams, paginate
from shared.jurisdiction import jurisdiction_filter
from shared.principal import Principal


def add(session: AsyncSession, item: ForumItem) -> None:
    session.add(item)


async def get(session: AsyncSession, item_id: uuid.UUID) -> ForumItem | None:
    return await session.get(ForumItem, item_id)


async def get_visible(session: AsyncSession, principal: Principal, item_id: uuid.UUID):
    statement = select(ForumItem).where(
        ForumItem.id == item_id, jurisdiction_filter(principal, ForumItem.location_code)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def list_visible(
    session: AsyncSession, principal: Principal, *, activity_id: uuid.UUID | None,
    page: PageParams,
):  # fmt: skip
    statement = select(ForumItem).where(jurisdiction_filter(principal, ForumItem.location_code))
    if activity_id:
        statement = statement.where(ForumItem.activity_id == activity_id)
    return await paginate(session, statement, order_by=[ForumItem.id], page=page)
