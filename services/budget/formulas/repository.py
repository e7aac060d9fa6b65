"""Queries on stored formula versions."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.budget.formulas.models import Formula


async def get(session: AsyncSession, code: str, version: int) -> Formula | None:
    return await session.get(Formula, (code, version))


async def latest_version(session: AsyncSession, code: str) -> int | None:
    return (
        await session.execute(select(func.max(Formula.version)).where(Formula.code == code))
    ).scalar_one()


async def all_versions(session: AsyncSession) -> list[Formula]:
    statement = select(Formula).order_by(Formula.code, Formula.version)
    return list((await session.execute(statement)).scalars())
