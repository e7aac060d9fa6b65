"""Queries on releases, limited to the caller's area (a release is located at its receiving
unit, which its allocating parent covers)."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.budget.releases.models import Release
from shared.http.pagination import PageParams, paginate
from shared.jurisdiction import jurisdiction_filter
from shared.principal import Principal


async def get_visible(
    session: AsyncSession, principal: Principal, release_id: uuid.UUID, *, for_update: bool = False
) -> Release | None:
    statement = select(Release).where(
        Release.id == release_id, jurisdiction_filter(principal, Release.admin_code)
    )
    if for_update:
        statement = statement.with_for_update()
    return (await session.execute(statement)).scalar_one_or_none()


async def list_visible(
    session: AsyncSession,
    principal: Principal,
    *,
    fiscal_year: int | None = None,
    area: str | None = None,
    line_code: str | None = None,
    page: PageParams,
) -> tuple[list[Release], str | None]:
    statement = select(Release).where(jurisdiction_filter(principal, Release.admin_code))
    if fiscal_year is not None:
        statement = statement.where(Release.fiscal_year == fiscal_year)
    if area:
        statement = statement.where(Release.admin_code.startswith(area))
    if line_code is not None:
        statement = statement.where(Release.line_code == line_code)
    return await paginate(session, statement, order_by=[Release.planned_at, Release.id], page=page)


async def tranches(session: AsyncSession, run_id: uuid.UUID, admin_code: str) -> list[Release]:
    """Every tranche of one unit's allocation, under a lock of that allocation for the rest
    of the transaction: two planners cannot both release the last riel (nor both plan the
    first tranche)."""
    key = f"budget.release:{run_id}:{admin_code}"
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtext(key))))
    statement = (
        select(Release)
        .where(Release.run_id == run_id, Release.admin_code == admin_code)
        .order_by(Release.tranche)
        .with_for_update()
    )
    return list((await session.execute(statement)).scalars())


async def released_total(
    session: AsyncSession, *, admin_code: str, fiscal_year: int, line_code: str
) -> int:
    statement = select(func.coalesce(func.sum(Release.amount_riel), 0)).where(
        Release.admin_code == admin_code,
        Release.fiscal_year == fiscal_year,
        Release.line_code == line_code,
        Release.released_on.is_not(None),
    )
    return int((await session.execute(statement)).scalar_one())
