"""The figures of the reports, summed per (line, unit) in SQL. `principal` None means the
public disclosure: published allocations and the releases and spending of the year, with no
jurisdiction filter (they carry no personal data)."""

from __future__ import annotations

from sqlalchemy import func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from services.budget.allocations.models import AllocationRun, AllocationUnit
from services.budget.expenditures.models import Expenditure
from services.budget.releases.models import Release
from services.budget.support.models import SupportRequest
from shared.jurisdiction import jurisdiction_filter
from shared.principal import Principal


def _scope(principal: Principal | None, column):
    return true() if principal is None else jurisdiction_filter(principal, column)


async def line_unit_figures(
    session: AsyncSession, principal: Principal | None, *, fiscal_year: int, area: str
) -> dict[tuple[str, str], dict[str, int]]:
    figures: dict[tuple[str, str], dict[str, int]] = {}

    def row(line: str, unit: str) -> dict[str, int]:
        return figures.setdefault(
            (line, unit), {"allocated": 0, "planned": 0, "released": 0, "spent": 0}
        )

    allocated = (
        select(
            AllocationRun.line_code, AllocationUnit.admin_code, func.sum(AllocationUnit.amount_riel)
        )
        .join(AllocationRun, AllocationRun.id == AllocationUnit.run_id)
        .where(
            AllocationRun.status == "published",
            AllocationRun.fiscal_year == fiscal_year,
            AllocationUnit.admin_code.startswith(area),
            _scope(principal, AllocationUnit.admin_code),
        )
        .group_by(AllocationRun.line_code, AllocationUnit.admin_code)
    )
    for line, unit, amount in await session.execute(allocated):
        row(line, unit)["allocated"] = int(amount)
    released = (
        select(
            Release.line_code,
            Release.admin_code,
            func.sum(Release.amount_riel),
            func.coalesce(
                func.sum(Release.amount_riel).filter(Release.released_on.is_not(None)), 0
            ),
        )
        .where(
            Release.fiscal_year == fiscal_year,
            Release.admin_code.startswith(area),
            _scope(principal, Release.admin_code),
        )
        .group_by(Release.line_code, Release.admin_code)
    )
    for line, unit, planned, done in await session.execute(released):
        figure = row(line, unit)
        figure["planned"], figure["released"] = int(planned), int(done)
    spent = (
        select(Expenditure.line_code, Expenditure.admin_code, func.sum(Expenditure.amount_riel))
        .where(
            Expenditure.fiscal_year == fiscal_year,
            Expenditure.admin_code.startswith(area),
            _scope(principal, Expenditure.admin_code),
        )
        .group_by(Expenditure.line_code, Expenditure.admin_code)
    )
    for line, unit, amount in await session.execute(spent):
        row(line, unit)["spent"] = int(amount)
    return figures


async def releases(
    session: AsyncSession, principal: Principal | None, *, fiscal_year: int, area: str
) -> list[Release]:
    statement = select(Release).where(
        Release.fiscal_year == fiscal_year,
        Release.admin_code.startswith(area),
        _scope(principal, Release.admin_code),
    )
    return list((await session.execute(statement)).scalars())


async def support_counts(
    session: AsyncSession, principal: Principal, *, fiscal_year: int, area: str
) -> list[tuple[str, str, str, str, int, int, int]]:
    """(requesting tier, addressed tier, type, status, count, asked, approved) groups."""
    statement = (
        select(
            SupportRequest.requesting_tier,
            SupportRequest.addressed_tier,
            SupportRequest.request_type,
            SupportRequest.status,
            func.count(),
            func.sum(SupportRequest.amount_riel),
            func.coalesce(func.sum(SupportRequest.approved_amount_riel), 0),
        )
        .where(
            SupportRequest.fiscal_year == fiscal_year,
            SupportRequest.requesting_admin_code.startswith(area),
            jurisdiction_filter(principal, SupportRequest.requesting_admin_code),
        )
        .group_by(
            SupportRequest.requesting_tier,
            SupportRequest.addressed_tier,
            SupportRequest.request_type,
            SupportRequest.status,
        )
    )
    return [tuple(r) for r in await session.execute(statement)]  # type: ignore[misc]
