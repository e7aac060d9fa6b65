"""Public disclosure of the budget: no personal data (amounts, dates, unit codes and names
only), and only published allocations (drafts, proposals and who approved stay internal)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from services.budget.reports import repository
from services.budget.reports.api import Format, report_csv, wants_csv
from services.budget.reports.service import BudgetReport, build
from shared.clock import today
from shared.db import SessionDep
from shared.gazetteer import LocationCode

router = APIRouter(tags=["public"])


@router.get(
    "/public/budget",
    responses={200: {"content": {"text/csv": {}}}},
    summary="Published allocations, releases, spending and execution per unit (public)",
    description="For every province, district and commune of `area` (the whole country by "
    "default) that received a published allocation in the year: allocated, released and "
    "spent riel per budget line, the execution rate and release delays, with Khmer and "
    "English names. CSV with `format=csv` or `Accept: text/csv`.",
)
async def public_budget(
    request: Request,
    session: SessionDep,
    fiscal_year: Annotated[int, Query(ge=2000, le=2100)],
    area: Annotated[LocationCode | None, Query(description="A unit's subtree.")] = None,
    format: Format | None = None,
) -> BudgetReport:
    where = area or ""
    figures = await repository.line_unit_figures(session, None, fiscal_year=fiscal_year, area=where)
    # Only units that received a published allocation are disclosed.
    figures = {key: value for key, value in figures.items() if value["allocated"] > 0}
    releases = [
        r
        for r in await repository.releases(session, None, fiscal_year=fiscal_year, area=where)
        if (r.line_code, r.admin_code) in figures
    ]
    report = build(
        fiscal_year=fiscal_year, area=where, figures=figures, releases=releases, today=today()
    )
    if wants_csv(request, format):
        return report_csv(report, f"budget-public-{fiscal_year}-{where or 'national'}.csv")  # type: ignore[return-value]
    return report
