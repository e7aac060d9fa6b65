"""Queries on allocation runs and unit amounts; every read is limited to the caller's area
(a run is located at its allocating unit, a unit amount at the receiving unit)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.budget.allocations.models import AllocationRun, AllocationUnit
from shared.http.pagination import PageParams, paginate
from shared.jurisdiction import jurisdiction_filter
from shared.principal import Principal


async def get_visible(
    session: AsyncSession, principal: Principal, run_id: uuid.UUID, *, for_update: bool = False
) -> AllocationRun | None:
    statement = select(AllocationRun).where(
        AllocationRun.id == run_id,
        jurisdiction_filter(principal, AllocationRun.allocating_admin_code),
    )
    if for_update:
        statement = statement.with_for_update()
    return (await session.execute(statement)).scalar_one_or_none()


async def get(session: AsyncSession, run_id: uuid.UUID) -> AllocationRun | None:
    return await session.get(AllocationRun, run_id)


async def list_visible(
    session: AsyncSession,
    principal: Principal,
    *,
    fiscal_year: int | None,
    line_code: str | None,
    status: str | None,
    page: PageParams,
) -> tuple[list[AllocationRun], str | None]:
    statement = select(AllocationRun).where(
        jurisdiction_filter(principal, AllocationRun.allocating_admin_code)
    )
    if fiscal_year is not None:
        statement = statement.where(AllocationRun.fiscal_year == fiscal_year)
    if line_code is not None:
        statement = statement.where(AllocationRun.line_code == line_code)
    if status is not None:
        statement = statement.where(AllocationRun.status == status)
    return await paginate(
        session, statement, order_by=[AllocationRun.created_at, AllocationRun.id], page=page
    )


async def units(session: AsyncSession, run_id: uuid.UUID) -> list[AllocationUnit]:
    statement = (
        select(AllocationUnit)
        .where(AllocationUnit.run_id == run_id)
        .order_by(AllocationUnit.admin_code)
    )
    return list((await session.execute(statement)).scalars())


async def unit(session: AsyncSession, run_id: uuid.UUID, admin_code: str) -> AllocationUnit | None:
    return await session.get(AllocationUnit, (run_id, admin_code))


async def add_units(session: AsyncSession, rows: list[dict]) -> None:
    if rows:
        await session.execute(insert(AllocationUnit), rows)


async def published_exists(
    session: AsyncSession, *, year: int, line_code: str, allocating_admin_code: str
) -> bool:
    statement = select(AllocationRun.id).where(
        AllocationRun.fiscal_year == year,
        AllocationRun.line_code == line_code,
        AllocationRun.allocating_admin_code == allocating_admin_code,
        AllocationRun.status == "published",
    )
    return (await session.execute(statement.limit(1))).first() is not None


async def published_amount(
    session: AsyncSession, *, year: int, line_code: str, admin_code: str
) -> tuple[AllocationRun, AllocationUnit] | None:
    """The published run that allocated to `admin_code` in that year and line, and its
    amount there."""
    statement = (
        select(AllocationRun, AllocationUnit)
        .join(AllocationUnit, AllocationUnit.run_id == AllocationRun.id)
        .where(
            AllocationRun.fiscal_year == year,
            AllocationRun.line_code == line_code,
            AllocationRun.status == "published",
            AllocationUnit.admin_code == admin_code,
        )
        .limit(1)
    )
    row = (await session.execute(statement)).first()
    return None if row is None else (row[0], row[1])


async def published_for_unit(
    session: AsyncSession, *, year: int, admin_code: str
) -> list[AllocationRun]:
    """The published runs of a year that allocated to `admin_code` (public figures)."""
    statement = (
        select(AllocationRun)
        .join(AllocationUnit, AllocationUnit.run_id == AllocationRun.id)
        .where(
            AllocationRun.fiscal_year == year,
            AllocationRun.status == "published",
            AllocationUnit.admin_code == admin_code,
        )
        .order_by(AllocationRun.line_code)
    )
    return list((await session.execute(statement)).scalars())
