"""Queries on expenditures, limited to the caller's area."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.budget.expenditures.models import Expenditure
from shared.http.pagination import PageParams, paginate
from shared.jurisdiction import jurisdiction_filter
from shared.principal import Principal


async def lock_unit_line(
    session: AsyncSession, *, admin_code: str, fiscal_year: int, line_code: str
) -> None:
    """Serialise spending of one unit on one line and year: two clerks cannot both spend the
    last released riel."""
    key = f"budget.spend:{admin_code}:{fiscal_year}:{line_code}"
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtext(key))))


async def spent_total(
    session: AsyncSession, *, admin_code: str, fiscal_year: int, line_code: str
) -> int:
    statement = select(func.coalesce(func.sum(Expenditure.amount_riel), 0)).where(
        Expenditure.admin_code == admin_code,
        Expenditure.fiscal_year == fiscal_year,
        Expenditure.line_code == line_code,
    )
    return int((await session.execute(statement)).scalar_one())


async def list_visible(
    session: AsyncSession,
    principal: Principal,
    *,
    fiscal_year: int | None = None,
    area: str | None = None,
    page: PageParams,
) -> tuple[list[Expenditure], str | None]:
    statement = select(Expenditure).where(jurisdiction_filter(principal, Expenditure.admin_code))
    if fiscal_year is not None:
        statement = statement.where(Expenditure.fiscal_year == fiscal_year)
    if area:
        statement = statement.where(Expenditure.admin_code.startswith(area))
    return await paginate(
        session, statement, order_by=[Expenditure.recorded_at, Expenditure.id], page=page
    )
