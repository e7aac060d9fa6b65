"""Public disclosure of the budget: no personal data (amounts, dates, unit codes and names
only), and only published allocations (drafts, proposals and who approved stay internal)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from services.budget.allocations import repository as runs
from services.budget.allocations.api import run_read
from services.budget.allocations.schemas import UnitRead
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


class PublicAllocation(BaseModel):
    """How a unit's share of one published run was decided (no names of the people)."""

    fiscal_year: int
    line_code: str
    allocating_admin_code: str = Field(description="'' for the national tier.")
    formula_code: str
    formula_version: int
    definition: dict
    envelope_riel: int
    unit_count: int
    rounding_rule: str
    provenance: dict
    published_at: str | None
    unit: UnitRead


@router.get(
    "/public/allocations",
    summary="How a unit's published amounts were decided (public)",
    description="For one province, district or commune and year: every published run that "
    "allocated to it, with the formula, the envelope divided, the unit's values of each "
    "indicator beside their totals, each component's share, the exact total and the rounding.",
)
async def public_allocations(
    session: SessionDep,
    fiscal_year: Annotated[int, Query(ge=2000, le=2100)],
    admin_code: Annotated[LocationCode, Query(description="The receiving unit.")],
) -> list[PublicAllocation]:
    explained = []
    for run in await runs.published_for_unit(session, year=fiscal_year, admin_code=admin_code):
        read = await run_read(session, run, with_units=True, only=admin_code)
        explained.append(
            PublicAllocation(
                fiscal_year=read.fiscal_year, line_code=read.line_code,
                allocating_admin_code=read.allocating_admin_code,
                formula_code=read.formula_code, formula_version=read.formula_version,
                definition=read.definition.model_dump(mode="json"),
                envelope_riel=read.envelope_riel, unit_count=read.unit_count,
                rounding_rule=read.rounding_rule, provenance=read.provenance,
                published_at=read.published_at.isoformat() if read.published_at else None,
                unit=read.units[0],
            )
        )  # fmt: skip
    return explained
