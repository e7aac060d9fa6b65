"""Queries on fiscal years and envelopes (national reference data: every budget reader may
read them)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.budget.planning.models import Envelope, FiscalYear


async def fiscal_year(session: AsyncSession, year: int) -> FiscalYear | None:
    return await session.get(FiscalYear, year)


async def fiscal_years(session: AsyncSession) -> list[FiscalYear]:
    return list((await session.execute(select(FiscalYear).order_by(FiscalYear.year))).scalars())


async def envelope(
    session: AsyncSession, year: int, line_code: str, *, for_update: bool = False
) -> Envelope | None:
    statement = select(Envelope).where(
        Envelope.fiscal_year == year, Envelope.line_code == line_code
    )
    if for_update:
        statement = statement.with_for_update()
    return (await session.execute(statement)).scalar_one_or_none()


async def envelopes(session: AsyncSession, year: int) -> list[Envelope]:
    statement = select(Envelope).where(Envelope.fiscal_year == year).order_by(Envelope.line_code)
    return list((await session.execute(statement)).scalars())
