"""Grievance reports for the caller's subtree and a period, as JSON or CSV.

Counts by category, channel, status, handling tier and complainant sex (`anonymous` and
`unknown` included); median hours from submission to acknowledgement and to resolution;
the share of resolved grievances that never breached an SLA; the escalation rate (share
of grievances escalated at least once, automatically or manually). The period filters on
submission date: `from` inclusive, `to` inclusive (whole days, UTC).
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from services.grievance.reports import repository
from shared.db import SessionDep
from shared.gazetteer import LocationCode
from shared.http.params import IsoDate
from shared.principal import PrincipalDep
from shared.problems import PROBLEM_RESPONSES, Problem

router = APIRouter(prefix="/reports", tags=["reports"])


class GrievanceReport(BaseModel):
    area: str
    period_from: date
    period_to: date
    total: int
    by_category: dict[str, int]
    by_channel: dict[str, int]
    by_status: dict[str, int]
    by_tier: dict[str, int]
    by_sex: dict[str, int]
    median_hours_to_acknowledge: float | None
    median_hours_to_resolve: float | None
    resolved: int
    resolved_within_sla: int
    share_resolved_within_sla: float | None
    escalated: int
    escalation_rate: float | None
    sla_breached: int
    average_rating: float | None


def _round(value) -> float | None:
    return None if value is None else round(float(value), 2)


@router.get(
    "/grievances",
    responses={
        200: {"content": {"text/csv": {}}},
        **{k: PROBLEM_RESPONSES[k] for k in (404, 422)},
    },
    summary="Grievance report for your area (or a subtree of it) and a period; JSON or CSV",
)
async def grievance_report(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    period_from: Annotated[IsoDate, Query(alias="from")],
    period_to: Annotated[IsoDate, Query(alias="to")],
    location: Annotated[LocationCode | None, Query(description="A subtree of your area")] = None,
    format: Literal["json", "csv"] | None = None,
) -> GrievanceReport:
    if period_to < period_from:
        raise Problem.invalid("to", "must not be before from")
    if (period_to - period_from).days > 3660:
        raise Problem.invalid("to", "a period is at most ten years")
    if location is not None and not principal.covers(location):
        raise Problem.not_found(f"The area {location}")
    start = datetime.combine(period_from, time(), tzinfo=UTC)
    end = datetime.combine(period_to + timedelta(days=1), time(), tzinfo=UTC)
    counts = await repository.counts(session, principal, location=location, start=start, end=end)
    figures = await repository.figures(session, principal, location=location, start=start, end=end)
    total = int(figures["total"])
    resolved = int(figures["resolved"])
    report = GrievanceReport(
        area=location or principal.admin_code,
        period_from=period_from,
        period_to=period_to,
        total=total,
        by_category=counts["category"],
        by_channel=counts["channel"],
        by_status=counts["status"],
        by_tier=counts["tier"],
        by_sex=counts["sex"],
        median_hours_to_acknowledge=_round(figures["median_hours_to_acknowledge"]),
        median_hours_to_resolve=_round(figures["median_hours_to_resolve"]),
        resolved=resolved,
        resolved_within_sla=int(figures["resolved_within_sla"]),
        share_resolved_within_sla=_round(int(figures["resolved_within_sla"]) / resolved)
        if resolved
        else None,
        escalated=int(figures["escalated"]),
        escalation_rate=_round(int(figures["escalated"]) / total) if total else None,
        sla_breached=int(figures["sla_breached"]),
        average_rating=_round(figures["average_rating"]),
    )
    wants_csv = format == "csv" or (
        format is None and "text/csv" in request.headers.get("accept", "")
    )
    if wants_csv:
        return _csv(report)  # type: ignore[return-value]
    return report


def _csv(report: GrievanceReport) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["area", "period_from", "period_to", "measure", "key", "value"])
    head = [report.area, report.period_from.isoformat(), report.period_to.isoformat()]
    for measure in ("by_category", "by_channel", "by_status", "by_tier", "by_sex"):
        for key, value in sorted(getattr(report, measure).items()):
            writer.writerow([*head, measure, key, value])
    for measure in (
        "total",
        "median_hours_to_acknowledge",
        "median_hours_to_resolve",
        "resolved",
        "resolved_within_sla",
        "share_resolved_within_sla",
        "escalated",
        "escalation_rate",
        "sla_breached",
        "average_rating",
    ):
        value = getattr(report, measure)
        writer.writerow([*head, measure, "", "" if value is None else value])
    filename = f"grievances-{report.area or 'national'}-{report.period_from}-{report.period_to}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
