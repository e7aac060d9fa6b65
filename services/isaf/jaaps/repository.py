"""Queries on JAAPs and actions; reads are limited to the caller's area here."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.isaf.areas import subtree
from services.isaf.jaaps.models import ActionUpdate, Jaap, JaapAction
from shared.http.pagination import PageParams, paginate
from shared.jurisdiction import jurisdiction_filter
from shared.principal import Principal


def add(session: AsyncSession, *rows) -> None:
    session.add_all(rows)


async def get(session: AsyncSession, jaap_id: uuid.UUID) -> Jaap | None:
    return await session.get(Jaap, jaap_id)


async def for_cycle(session: AsyncSession, cycle_id: uuid.UUID) -> Jaap | None:
    return (
        await session.execute(select(Jaap).where(Jaap.cycle_id == cycle_id))
    ).scalar_one_or_none()


async def get_visible(session: AsyncSession, principal: Principal, jaap_id: uuid.UUID):
    statement = select(Jaap).where(
        Jaap.id == jaap_id, jurisdiction_filter(principal, Jaap.location_code)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def list_visible(
    session: AsyncSession, principal: Principal, *, year: int | None, location: str | None,
    page: PageParams,
):  # fmt: skip
    statement = select(Jaap).where(jurisdiction_filter(principal, Jaap.location_code))
    if year:
        statement = statement.where(Jaap.year == year)
    if location:
        statement = statement.where(subtree(location, Jaap.location_code))
    return await paginate(session, statement, order_by=[Jaap.id], page=page)


async def actions_of(session: AsyncSession, jaap_ids: list[uuid.UUID]) -> list[JaapAction]:
    if not jaap_ids:
        return []
    statement = select(JaapAction).where(JaapAction.jaap_id.in_(jaap_ids)).order_by(JaapAction.seq)
    return list((await session.execute(statement)).scalars())


async def get_action(session: AsyncSession, action_id: uuid.UUID) -> JaapAction | None:
    return await session.get(JaapAction, action_id)


async def get_visible_action(session: AsyncSession, principal: Principal, action_id: uuid.UUID):
    statement = select(JaapAction).where(
        JaapAction.id == action_id, jurisdiction_filter(principal, JaapAction.location_code)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def updates_of(session: AsyncSession, action_ids: list[uuid.UUID]) -> dict:
    result: dict[uuid.UUID, list[ActionUpdate]] = {a: [] for a in action_ids}
    if action_ids:
        statement = (
            select(ActionUpdate)
            .where(ActionUpdate.action_id.in_(action_ids))
            .order_by(ActionUpdate.seq)
        )
        for update in (await session.execute(statement)).scalars():
            result[update.action_id].append(update)
    return result


async def actions_at(session: AsyncSession, location_code: str) -> list[JaapAction]:
    """Every action of one area's JAAPs (the public view), newest year first."""
    statement = (
        select(JaapAction)
        .where(JaapAction.location_code == location_code)
        .order_by(JaapAction.year.desc(), JaapAction.seq)
    )
    return list((await session.execute(statement)).scalars())


async def jaaps_at(session: AsyncSession, location_code: str) -> list[Jaap]:
    statement = select(Jaap).where(Jaap.location_code == location_code).order_by(Jaap.year.desc())
    return list((await session.execute(statement)).scalars())
