"""Writes of the budget read model (one row per budget fact, a repeat is a no-op) and the
per-year figures of one unit for the public view."""

from __future__ import annotations

from sqlalchemy import func, select, union_all
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.isaf.budget.models import AllocatedAmount, ReleasedAmount, SpentAmount


async def keep(session: AsyncSession, model, rows: list[dict]) -> None:
    if rows:
        await session.execute(insert(model).values(rows).on_conflict_do_nothing())


async def figures(session: AsyncSession, admin_code: str) -> list[dict]:
    """Allocated, released and spent per fiscal year for one unit, oldest year first."""
    parts = union_all(
        select(AllocatedAmount.fiscal_year.label("year"),
               AllocatedAmount.amount_riel.label("allocated"),
               func.cast(0, AllocatedAmount.amount_riel.type).label("released"),
               func.cast(0, AllocatedAmount.amount_riel.type).label("spent"))
        .where(AllocatedAmount.admin_code == admin_code),
        select(ReleasedAmount.fiscal_year, 0, ReleasedAmount.amount_riel, 0)
        .where(ReleasedAmount.admin_code == admin_code),
        select(SpentAmount.fiscal_year, 0, 0, SpentAmount.amount_riel)
        .where(SpentAmount.admin_code == admin_code),
    ).subquery()  # fmt: skip
    statement = (
        select(
            parts.c.year,
            func.sum(parts.c.allocated).label("allocated"),
            func.sum(parts.c.released).label("released"),
            func.sum(parts.c.spent).label("spent"),
        )
        .group_by(parts.c.year)
        .order_by(parts.c.year)
    )
    return [dict(row) for row in (await session.execute(statement)).mappings()]
