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
from pydantic import BaseModel, Field

from services.grievance.codes import LABELS, SEX
from services.grievance.reports import repository
from shared.db import SessionDep
from shared.gazetteer import LocationCode, get_gazetteer
from shared.http.language import LanguageDep
from shared.http.params import IsoDate
from shared.principal import PrincipalDep
from shared.problems import PROBLEM_RESPONSES, Problem

router = APIRouter(prefix="/reports", tags=["reports"])


class ReportArea(BaseModel):
    """The area a report covers: the caller's, or the sub-area named by `location`."""

    code: str = Field(description="NCDD code; empty for the whole country", examples=["1208"])
    level: str = Field(description="country, province, district or commune")
    name: str = Field(description="In the language asked for (Accept-Language).")


class ReportColumn(BaseModel):
    """A column of `rows`: its key and its heading in the requested language (the CSV header
    row holds the headings, in this order)."""

    key: str
    label: str


class GrievanceReportRow(BaseModel):
    """One figure: a count by category, channel, status, tier or sex, or an overall measure."""

    measure: str = Field(examples=["by_category"])
    measure_label: str = Field(examples=["By category"])
    code: str = Field(description="The code counted; empty for an overall measure.")
    label: str = Field(description="The code's label in the language asked for.")
    value: float | int | None


class GrievanceReport(BaseModel):
    """The report, as the registry's reports are shaped: `area`, `language`, `columns` and
    labelled `rows` (the CSV is `rows` under the column headings); the figures also by name."""

    area: str = Field(description="The area's code (see `area_detail`).")
    area_detail: ReportArea
    language: Literal["km", "en"]
    columns: list[ReportColumn]
    rows: list[GrievanceReportRow]
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


# Headings and measure names: (English, Khmer).
_COLUMNS = {
    "measure": ("Measure code", "លេខកូដរង្វាស់"),
    "measure_label": ("Measure", "រង្វាស់"),
    "code": ("Code", "លេខកូដ"),
    "label": ("Item", "ធាតុ"),
    "value": ("Value", "តម្លៃ"),
}
_MEASURES = {
    "by_category": ("By category", "តាមប្រភេទ", "categories"),
    "by_channel": ("By channel", "តាមមធ្យោបាយ", "channels"),
    "by_status": ("By status", "តាមស្ថានភាព", "statuses"),
    "by_tier": ("By handling tier", "តាមថ្នាក់ដោះស្រាយ", "tiers"),
    "by_sex": ("By complainant's sex", "តាមភេទអ្នកប្តឹង", "sex"),
    "total": ("Grievances", "បណ្តឹងសរុប", None),
    "median_hours_to_acknowledge": (
        "Median hours to acknowledge",
        "មធ្យមភាគម៉ោងរហូតដល់ទទួលស្គាល់",
        None,
    ),
    "median_hours_to_resolve": ("Median hours to resolve", "មធ្យមភាគម៉ោងរហូតដល់ដោះស្រាយ", None),
    "resolved": ("Resolved", "បានដោះស្រាយ", None),
    "resolved_within_sla": ("Resolved in time", "បានដោះស្រាយទាន់ពេល", None),
    "share_resolved_within_sla": ("Share resolved in time", "ភាគរយដោះស្រាយទាន់ពេល", None),
    "escalated": ("Escalated", "បានបញ្ជូនទៅថ្នាក់លើ", None),
    "escalation_rate": ("Escalation rate", "អត្រាបញ្ជូនទៅថ្នាក់លើ", None),
    "sla_breached": ("Answer overdue", "ហួសពេលកំណត់", None),
    "average_rating": ("Average rating", "ការវាយតម្លៃជាមធ្យម", None),
}
# Codes the grievance code lists do not hold.
_EXTRA_LABELS = {
    "anonymous": ("Anonymous", "អនាមិក"),
    "unknown": ("Not given", "មិនបានផ្តល់"),
}
_LEVELS = {0: ("country", "Cambodia", "កម្ពុជា"), 2: "province", 4: "district", 6: "commune"}


def _pick(pair: tuple[str, str], language: str) -> str:
    return pair[1] if language == "km" else pair[0]


def _code_label(code_list: str, code: str, language: str) -> str:
    listed = LABELS.get(code_list, {})
    if code_list == "sex" and code in SEX.labels:
        return SEX.label(code, language)
    if code in listed:
        return _pick(listed[code], language)
    if code in _EXTRA_LABELS:
        return _pick(_EXTRA_LABELS[code], language)
    return code


def _area(code: str, language: str) -> ReportArea:
    if not code:
        return ReportArea(code="", level="country", name=_pick(("Cambodia", "កម្ពុជា"), language))
    unit = get_gazetteer().get(code)
    name = (unit.name_km if language == "km" else unit.name_en) if unit else code
    return ReportArea(code=code, level=_LEVELS.get(len(code), "village"), name=name)


def _rows(figures: dict, language: str) -> list[GrievanceReportRow]:
    rows = []
    for measure, (english, khmer, code_list) in _MEASURES.items():
        measure_label = _pick((english, khmer), language)
        value = figures[measure]
        if code_list is None:
            rows.append(
                GrievanceReportRow(
                    measure=measure, measure_label=measure_label, code="", label="", value=value
                )
            )
            continue
        for code, count in sorted(value.items()):
            rows.append(
                GrievanceReportRow(
                    measure=measure,
                    measure_label=measure_label,
                    code=code,
                    label=_code_label(code_list, code, language),
                    value=count,
                )
            )
    return rows


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
    language: LanguageDep,
    location: Annotated[LocationCode | None, Query(description="A subtree of your area")] = None,
    format: Literal["json", "csv"] | None = None,
) -> GrievanceReport:
    """Counts by category, channel, status, handling tier and complainant sex, median hours to
    acknowledge and to resolve, the share resolved within the SLA, the escalation rate and the
    average rating, for your area (or `location`, a subtree of it) and a period (`from`/`to`,
    whole days). Shaped as the registry's reports: `area_detail`, `language`, `columns` and
    labelled `rows`; as CSV (UTF-8 with BOM) with `?format=csv` or `Accept: text/csv`."""
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
    area = location or principal.admin_code
    measures = {
        "by_category": counts["category"],
        "by_channel": counts["channel"],
        "by_status": counts["status"],
        "by_tier": counts["tier"],
        "by_sex": counts["sex"],
        "total": total,
        "median_hours_to_acknowledge": _round(figures["median_hours_to_acknowledge"]),
        "median_hours_to_resolve": _round(figures["median_hours_to_resolve"]),
        "resolved": resolved,
        "resolved_within_sla": int(figures["resolved_within_sla"]),
        "share_resolved_within_sla": _round(int(figures["resolved_within_sla"]) / resolved)
        if resolved
        else None,
        "escalated": int(figures["escalated"]),
        "escalation_rate": _round(int(figures["escalated"]) / total) if total else None,
        "sla_breached": int(figures["sla_breached"]),
        "average_rating": _round(figures["average_rating"]),
    }
    report = GrievanceReport(
        area=area,
        area_detail=_area(area, language),
        language=language,
        columns=[ReportColumn(key=k, label=_pick(v, language)) for k, v in _COLUMNS.items()],
        rows=_rows(measures, language),
        period_from=period_from,
        period_to=period_to,
        **measures,
    )
    wants_csv = format == "csv" or (
        format is None and "text/csv" in request.headers.get("accept", "")
    )
    if wants_csv:
        return _csv(report)  # type: ignore[return-value]
    return report


def _csv(report: GrievanceReport) -> Response:
    """The rows under the column headings, as the registry's reports: UTF-8 with a BOM (so
    Excel shows Khmer), CRLF line ends, headings and labels in the language asked for."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([column.label for column in report.columns])
    keys = [column.key for column in report.columns]
    for row in report.rows:
        values = [getattr(row, key) for key in keys]
        writer.writerow(["" if value is None else value for value in values])
    filename = f"grievances-{report.area or 'national'}-{report.period_from}-{report.period_to}.csv"
    return Response(
        out.getvalue().encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Content-Language": report.language,
            "Vary": "Accept, Accept-Language",
        },
    )
