"""Programme queries (programmes are national reference data: no jurisdiction applies)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.programmes.models import Programme
from shared.http.pagination import PageParams, paginate


async def get_by_code(session: AsyncSession, code: str) -> Programme | None:
    return (
        await session.execute(select(Programme).where(Programme.code == code))
    ).scalar_one_or_none()


async def page_of_programmes(
    session: AsyncSession, *, active: bool | None, page: PageParams
) -> tuple[list[Programme], str | None]:
    statement = select(Programme)
    if active is not None:
        statement = statement.where(Programme.active.is_(active))
    return await paginate(session, statement, order_by=[Programme.code], page=page)


async def active_programmes(session: AsyncSession) -> list[Programme]:
    return list(
        (
            await session.execute(
                select(Programme).where(Programme.active.is_(True)).order_by(Programme.code)
            )
        )
        .scalars()
        .all()
    )


def add(session: AsyncSession, programme: Programme) -> None:
    session.add(programme)


async def all_programmes(session: AsyncSession) -> list[Programme]:
    return list((await session.execute(select(Programme).order_by(Programme.code))).scalars())
