"""Routes of the reports: translate the query and the representation, nothing else."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Response
from pydantic import Field

from services.registry.households.models import HouseholdStatus
from services.registry.reports import service
from services.registry.reports.formats import CSV_RESPONSE, Format, csv_response, negotiate
from services.registry.reports.schemas import EnrolmentReport, HouseholdReport
from shared.db import SessionDep
from shared.gazetteer import LocationCode
from shared.http.language import preferred_language
from shared.principal import PrincipalDep
from shared.problems import PROBLEM_MEDIA_TYPE, PROBLEM_RESPONSES, ProblemDocument

router = APIRouter(prefix="/reports", tags=["reports"])

NOT_ACCEPTABLE = {
    "model": ProblemDocument,
    "content": {PROBLEM_MEDIA_TYPE: {}},
    "description": "The Accept header allows neither JSON nor CSV",
}

# A report is by area: a province, district or commune (a village has no smaller units).
ReportArea = Annotated[
    LocationCode,
    Field(json_schema_extra={"pattern": "^[0-9]{2}([0-9]{2}){0,2}$", "format": "ncdd-area"}),
]
LocationQuery = Annotated[
    ReportArea | None,
    Query(
        description="Narrow the report to this province, district or commune inside your own "
        "area (outside it: 404). Default: your whole area."
    ),
]
FormatQuery = Annotated[
    Format | None,
    Query(alias="format", description="`csv` or `json`; overrides the Accept header."),
]
AcceptHeader = Annotated[str | None, Header(include_in_schema=False)]
AcceptLanguageHeader = Annotated[
    str | None, Header(description="`km` or `en` for labels and location names.")
]


@router.get(
    "/households",
    response_model=HouseholdReport,
    summary="Households and members by IDPoor level, sex and age group",
    description=(
        "Households (by status, default active) and their active members in your area, broken "
        "down by the units one level below it (a district's communes, a commune's villages), "
        "each at every IDPoor level and in total, then the area's totals. Members are counted "
        "by sex, by age group at `reference_date` (0-1, 2-5, 6-14, 15-17, 18-59, 60+; default "
        "today in Cambodia) and by both; members born after the reference date are left out. "
        "Every unit and level appears, with zeros. JSON, or CSV with `Accept: text/csv` or "
        "`?format=csv` (UTF-8 with BOM so Excel shows Khmer; the header row holds the column "
        "headings in the requested language). Labels and location names follow "
        "`Accept-Language` (km or en)."
    ),
    responses={200: CSV_RESPONSE, 404: PROBLEM_RESPONSES[404], 406: NOT_ACCEPTABLE},
)
async def reports_households(
    session: SessionDep,
    principal: PrincipalDep,
    location: LocationQuery = None,
    reference_date: Annotated[
        date | None, Query(description="Date at which ages are computed (YYYY-MM-DD).")
    ] = None,
    status: Annotated[
        list[HouseholdStatus] | None,
        Query(description="Household statuses to count (repeatable); default active."),
    ] = None,
    output_format: FormatQuery = None,
    accept: AcceptHeader = None,
    accept_language: AcceptLanguageHeader = None,
) -> HouseholdReport | Response:
    chosen = negotiate(output_format, accept)
    language = preferred_language(accept_language)
    report = await service.household_report(
        session,
        principal=principal,
        location=location,
        reference_date=reference_date,
        statuses=[s.value for s in status] if status else [HouseholdStatus.ACTIVE.value],
        language=language,
    )
    if chosen == "csv":
        area = report.area.code or "national"
        return csv_response(
            report.columns,
            report.rows,
            filename=f"households-{area}-{report.reference_date.isoformat()}.csv",
            language=language,
        )
    return report


MonthQuery = Annotated[
    str | None,
    Query(
        alias="from",
        pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$",
        description="First month, YYYY-MM (default: eleven months before `to`).",
        examples=["2026-01"],
    ),
]
ToMonthQuery = Annotated[
    str | None,
    Query(
        alias="to",
        pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$",
        description="Last month, YYYY-MM (default: this month). At most 36 months in all.",
        examples=["2026-12"],
    ),
]


@router.get(
    "/enrolments",
    response_model=EnrolmentReport,
    summary="Enrolments by programme and status, benefits by programme and month",
    description=(
        "For your area (or `location` inside it), broken down by the units one level below: "
        "enrolments per programme by their current status (with those enrolled or exited "
        "within the period range), and benefit records per programme and month of the range "
        "(the month a benefit's period starts): count, riel amount, and how many were "
        "scheduled, paid (with the riel paid), failed or returned. Every unit, programme and "
        "month appears, with zeros, then totals over all programmes, the whole range and the "
        "whole area. JSON holds both tables; CSV (`Accept: text/csv` or `?format=csv`, UTF-8 "
        "with BOM) holds the one named by `table` (default enrolments). Programme names "
        "and location names follow `Accept-Language` (km or en)."
    ),
    responses={200: CSV_RESPONSE, 404: PROBLEM_RESPONSES[404], 406: NOT_ACCEPTABLE},
)
async def reports_enrolments(
    session: SessionDep,
    principal: PrincipalDep,
    location: LocationQuery = None,
    period_from: MonthQuery = None,
    period_to: ToMonthQuery = None,
    table: Annotated[
        Literal["enrolments", "benefits"],
        Query(description="Which table the CSV holds (JSON holds both)."),
    ] = "enrolments",
    output_format: FormatQuery = None,
    accept: AcceptHeader = None,
    accept_language: AcceptLanguageHeader = None,
) -> EnrolmentReport | Response:
    chosen = negotiate(output_format, accept)
    language = preferred_language(accept_language)
    report = await service.enrolment_report(
        session,
        principal=principal,
        location=location,
        period_from=period_from,
        period_to=period_to,
        language=language,
    )
    if chosen == "csv":
        chosen_table = report.enrolments if table == "enrolments" else report.benefits
        area = report.area.code or "national"
        return csv_response(
            chosen_table.columns,
            chosen_table.rows,
            filename=f"{table}-{area}-{report.period_from}-{report.period_to}.csv",
            language=language,
        )
    return report
