"""Routes of the reports: translate the query and the representation, nothing else."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response

from services.registry.households.models import HouseholdStatus
from services.registry.reports import service
from services.registry.reports.formats import CSV_RESPONSE, Format, csv_response, negotiate
from services.registry.reports.labels import preferred_language
from services.registry.reports.schemas import HouseholdReport
from shared.db import SessionDep
from shared.gazetteer import LocationCode
from shared.principal import PrincipalDep
from shared.problems import PROBLEM_MEDIA_TYPE, PROBLEM_RESPONSES, ProblemDocument

router = APIRouter(prefix="/reports", tags=["reports"])

NOT_ACCEPTABLE = {
    "model": ProblemDocument,
    "content": {PROBLEM_MEDIA_TYPE: {}},
    "description": "The Accept header allows neither JSON nor CSV",
}

LocationQuery = Annotated[
    LocationCode | None,
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
