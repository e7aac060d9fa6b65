"""Staff reports for the caller's subtree (JSON or CSV): allocated, released, spent, delays
and execution per line and unit; support requests by type, tier and year."""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from services.budget import roles
from services.budget.codes import SUPPORT_TYPES
from services.budget.reports import repository
from services.budget.reports.service import BudgetReport, build
from shared.clock import today
from shared.db import SessionDep
from shared.gazetteer import LocationCode
from shared.principal import Principal
from shared.problems import PROBLEM_RESPONSES, Problem

router = APIRouter(tags=["reports"])

Reader = Annotated[Principal, Depends(roles.READER)]
Year = Annotated[int, Query(ge=2000, le=2100)]
Format = Literal["json", "csv"]
CSV_COLUMNS = (
    "line_code", "line_name_en", "line_name_km", "admin_code", "tier", "name_en", "name_km",
    "allocated_riel", "planned_riel", "released_riel", "spent_riel", "release_rate",
    "execution_rate", "average_delay_days", "max_delay_days",
)  # fmt: skip


def wants_csv(request: Request, format: Format | None) -> bool:
    return format == "csv" or (format is None and "text/csv" in request.headers.get("accept", ""))


def report_csv(report: BudgetReport, filename: str) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["fiscal_year", *CSV_COLUMNS])
    for row in report.rows:
        values = row.model_dump()
        writer.writerow(
            [report.fiscal_year, *("" if values[c] is None else values[c] for c in CSV_COLUMNS)]
        )
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _area(principal: Principal, area: str | None) -> str:
    if area is None:
        return principal.admin_code
    if not principal.covers(area):
        raise Problem.not_found(f"The area {area}")
    return area


@router.get(
    "/reports/budget",
    responses={404: PROBLEM_RESPONSES[404], 200: {"content": {"text/csv": {}}}},
    summary="Allocated, released, spent, delays and execution per line and unit in your area",
    description="Every unit of the subtree that received a published allocation, per line; "
    "the delay distribution per tier (median, share more than 30 days late). CSV with "
    "`format=csv` or `Accept: text/csv`.",
)
async def budget_report(
    request: Request,
    session: SessionDep,
    principal: Reader,
    fiscal_year: Year,
    area: Annotated[LocationCode | None, Query(description="Default: your area.")] = None,
    format: Format | None = None,
) -> BudgetReport:
    where = _area(principal, area)
    figures = await repository.line_unit_figures(
        session, principal, fiscal_year=fiscal_year, area=where
    )
    releases = await repository.releases(session, principal, fiscal_year=fiscal_year, area=where)
    report = build(
        fiscal_year=fiscal_year, area=where, figures=figures, releases=releases, today=today()
    )
    if wants_csv(request, format):
        return report_csv(report, f"budget-{fiscal_year}-{where or 'national'}.csv")  # type: ignore[return-value]
    return report


class TypeShare(BaseModel):
    request_type: str
    label_km: str
    label_en: str
    count: int
    share: float | None = Field(description="Of all requests in the group, 0..1.")
    requested_riel: int
    approved_riel: int


class SupportGroup(BaseModel):
    requesting_tier: str
    addressed_tier: str
    total: int
    by_type: list[TypeShare]


class SupportReport(BaseModel):
    fiscal_year: int
    area: str
    total: int
    by_type: list[TypeShare]
    by_tier: list[SupportGroup]
    by_status: dict[str, int]


def _shares(counts, asked, approved) -> tuple[int, list[TypeShare]]:
    total = sum(counts.values())
    return total, [
        TypeShare(
            request_type=t, label_km=km, label_en=en, count=counts.get(t, 0),
            share=round(counts.get(t, 0) / total, 4) if total else None,
            requested_riel=asked.get(t, 0), approved_riel=approved.get(t, 0),
        )
        for t, (km, en) in SUPPORT_TYPES.items()
    ]  # fmt: skip


@router.get(
    "/reports/support-requests",
    responses={404: PROBLEM_RESPONSES[404], 200: {"content": {"text/csv": {}}}},
    summary="Support requests by type (counts and shares), by tier and status, for a year",
    description="The table of the needs assessment: what communes asked their districts and "
    "provinces for, as shares of all requests. CSV with `format=csv` or `Accept: text/csv` "
    "(one row per requesting tier, addressed tier and type; `all` for the totals).",
)
async def support_report(
    request: Request,
    session: SessionDep,
    principal: Reader,
    fiscal_year: Year,
    area: Annotated[LocationCode | None, Query(description="Default: your area.")] = None,
    format: Format | None = None,
) -> SupportReport:
    where = _area(principal, area)
    groups = await repository.support_counts(
        session, principal, fiscal_year=fiscal_year, area=where
    )
    counts: Counter[str] = Counter()
    asked: Counter[str] = Counter()
    approved: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    tiers: dict[tuple[str, str], tuple[Counter, Counter, Counter]] = defaultdict(
        lambda: (Counter(), Counter(), Counter())
    )
    for requesting, addressed, kind, status, count, amount, granted in groups:
        counts[kind] += count
        asked[kind] += int(amount)
        approved[kind] += int(granted)
        statuses[status] += count
        c, a, g = tiers[(requesting, addressed)]
        c[kind] += count
        a[kind] += int(amount)
        g[kind] += int(granted)
    total, by_type = _shares(counts, asked, approved)
    by_tier = []
    for (requesting, addressed), (c, a, g) in sorted(tiers.items()):
        group_total, group_types = _shares(c, a, g)
        by_tier.append(
            SupportGroup(requesting_tier=requesting, addressed_tier=addressed,
                         total=group_total, by_type=group_types)
        )  # fmt: skip
    report = SupportReport(
        fiscal_year=fiscal_year, area=where, total=total, by_type=by_type, by_tier=by_tier,
        by_status=dict(statuses),
    )  # fmt: skip
    if wants_csv(request, format):
        return support_csv(report)  # type: ignore[return-value]
    return report


def support_csv(report: SupportReport) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["fiscal_year", "area", "requesting_tier", "addressed_tier", "request_type", "label_en",
         "label_km", "count", "share", "requested_riel", "approved_riel"]
    )  # fmt: skip
    groups = [("all", "all", report.by_type)] + [
        (g.requesting_tier, g.addressed_tier, g.by_type) for g in report.by_tier
    ]
    for requesting, addressed, types in groups:
        for t in types:
            writer.writerow(
                [report.fiscal_year, report.area, requesting, addressed, t.request_type,
                 t.label_en, t.label_km, t.count, "" if t.share is None else t.share,
                 t.requested_riel, t.approved_riel]
            )  # fmt: skip
    filename = f"support-requests-{report.fiscal_year}-{report.area or 'national'}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
