"""Report routes: `GET /reports/{participation,cafs,scorecard-results,jaap-completion,summary}`
for the caller's area (or a subtree of it) and a range of years, JSON or CSV (`format=csv` or
`Accept: text/csv`). Every report carries its counting rules, and Khmer and English labels of
its columns and codes; CSV headers are in the caller's language (Accept-Language)."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from services.isaf.access import Reader
from services.isaf.codes import labels
from services.isaf.reports import repository
from services.isaf.reports.rules import COUNTING_RULES
from shared.db import SessionDep
from shared.gazetteer import LocationCode
from shared.http.language import Language, LanguageDep
from shared.principal import Principal
from shared.problems import PROBLEM_RESPONSES, Problem

router = APIRouter(prefix="/reports", tags=["reports"])

COLUMN_LABELS: dict[str, dict[str, str]] = {
    "year": {"en": "Year", "km": "ឆ្នាំ"},
    "location_code": {"en": "Area", "km": "តំបន់"},
    "activity_type": {"en": "Activity", "km": "សកម្មភាព"},
    "activity_label": {"en": "Activity (label)", "km": "សកម្មភាព (ឈ្មោះ)"},
    "activities": {"en": "Activities", "km": "ចំនួនសកម្មភាព"},
    "participants": {"en": "Participants", "km": "អ្នកចូលរួម"},
    "women": {"en": "Women", "km": "ស្ត្រី"},
    "men": {"en": "Men", "km": "បុរស"},
    "other_sex": {"en": "Other sex", "km": "ភេទផ្សេងទៀត"},
    "with_disability": {"en": "With disability", "km": "ជនមានពិការភាព"},
    "ethnic_minority": {"en": "Ethnic minority", "km": "ជនជាតិដើមភាគតិច"},
    "youth": {"en": "Youth", "km": "យុវជន"},
    "idpoor": {"en": "IDPoor card holders", "km": "អ្នកកាន់ប័ណ្ណក្រីក្រ"},
    "booklets": {"en": "Booklets handed out", "km": "កូនសៀវភៅចែកជូន"},
    "cafs_trained": {"en": "CAFs trained", "km": "CAF ដែលបានបណ្តុះបណ្តាល"},
    "cafs_trained_women": {"en": "CAFs trained: women", "km": "CAF ដែលបានបណ្តុះបណ្តាល: ស្ត្រី"},
    "cafs_registered": {"en": "CAFs registered", "km": "CAF ដែលបានចុះឈ្មោះ"},
    "cafs_active": {"en": "CAFs active now", "km": "CAF សកម្ម"},
    "cafs_active_women": {"en": "CAFs active now: women", "km": "CAF សកម្ម: ស្ត្រី"},
    "facility_type": {"en": "Facility type", "km": "ប្រភេទអ្នកផ្តល់សេវា"},
    "kind": {"en": "Scorecard kind", "km": "ប្រភេទកាតពិន្ទុ"},
    "indicator_code": {"en": "Indicator", "km": "សូចនាករ"},
    "indicator_en": {"en": "Indicator (English)", "km": "សូចនាករ (អង់គ្លេស)"},
    "indicator_km": {"en": "Indicator (Khmer)", "km": "សូចនាករ (ខ្មែរ)"},
    "scorecards": {"en": "Scorecards", "km": "កាតពិន្ទុ"},
    "votes": {"en": "Votes", "km": "សន្លឹកឆ្នោត"},
    "median": {"en": "Median score (1-5)", "km": "ពិន្ទុមធ្យម (១-៥)"},
    "jaaps": {"en": "JAAPs", "km": "ផែនការសកម្មភាព"},
    "actions_adopted": {"en": "Actions adopted", "km": "សកម្មភាពដែលបានអនុម័ត"},
    "actions_completed": {"en": "Actions completed", "km": "សកម្មភាពដែលបានបញ្ចប់"},
    "actions_in_progress": {"en": "Actions in progress", "km": "សកម្មភាពកំពុងអនុវត្ត"},
    "actions_not_started": {"en": "Actions not started", "km": "សកម្មភាពមិនទាន់ចាប់ផ្តើម"},
    "actions_dropped": {"en": "Actions dropped", "km": "សកម្មភាពបានបោះបង់"},
    "completion_rate": {"en": "Completion rate", "km": "អត្រាបញ្ចប់"},
    "measure": {"en": "Measure", "km": "រង្វាស់"},
    "label_en": {"en": "Measure (English)", "km": "រង្វាស់ (អង់គ្លេស)"},
    "label_km": {"en": "Measure (Khmer)", "km": "រង្វាស់ (ខ្មែរ)"},
    "total": {"en": "Total", "km": "សរុប"},
}

# The project summary table's rows, in the order NGOs write it.
SUMMARY_MEASURES: dict[str, dict[str, str]] = {
    "i4c_disseminations": {"en": "I4C dissemination meetings", "km": "កិច្ចប្រជុំផ្សព្វផ្សាយ I4C"},
    "i4c_participants": {"en": "I4C participants", "km": "អ្នកចូលរួម I4C"},
    "i4c_women": {"en": "I4C participants: women", "km": "អ្នកចូលរួម I4C: ស្ត្រី"},
    "door_to_door_rounds": {"en": "Door-to-door rounds", "km": "ការផ្សព្វផ្សាយពីផ្ទះមួយទៅផ្ទះមួយ"},
    "door_to_door_people": {"en": "Door-to-door: people reached", "km": "មនុស្សដែលបានជួប"},
    "door_to_door_women": {"en": "Door-to-door: women", "km": "មនុស្សដែលបានជួប: ស្ត្រី"},
    "booklets": {"en": "Booklets handed out", "km": "កូនសៀវភៅចែកជូន"},
    "scorecards": {"en": "Community scorecards", "km": "កាតពិន្ទុសហគមន៍"},
    "scorecard_participants": {"en": "Scorecard participants", "km": "អ្នកចូលរួមកាតពិន្ទុ"},
    "scorecard_women": {"en": "Scorecard participants: women", "km": "អ្នកចូលរួមកាតពិន្ទុ: ស្ត្រី"},
    "self_assessments": {"en": "Self-assessment meetings", "km": "ការវាយតម្លៃខ្លួនឯង"},
    "self_assessment_providers": {"en": "Service providers", "km": "អ្នកផ្តល់សេវា"},
    "self_assessment_women": {"en": "Service providers: women", "km": "អ្នកផ្តល់សេវា: ស្ត្រី"},
    "interface_meetings": {"en": "Interface meetings", "km": "កិច្ចប្រជុំផ្សារភ្ជាប់"},
    "interface_meeting_participants": {"en": "Interface meeting participants",
                                       "km": "អ្នកចូលរួមកិច្ចប្រជុំផ្សារភ្ជាប់"},
    "interface_meeting_women": {"en": "Interface meeting participants: women",
                                "km": "អ្នកចូលរួមកិច្ចប្រជុំផ្សារភ្ជាប់: ស្ត្រី"},
    "jaaps": {"en": "JAAPs adopted", "km": "ផែនការសកម្មភាពដែលបានអនុម័ត"},
    "public_forums": {"en": "Public forums", "km": "វេទិកាសាធារណៈ"},
    "public_forum_participants": {"en": "Public forum participants",
                                  "km": "អ្នកចូលរួមវេទិកាសាធារណៈ"},
    "public_forum_women": {"en": "Public forum participants: women",
                           "km": "អ្នកចូលរួមវេទិកាសាធារណៈ: ស្ត្រី"},
    "cafs_trained": {"en": "CAFs trained", "km": "CAF ដែលបានបណ្តុះបណ្តាល"},
    "cafs_trained_women": {"en": "CAFs trained: women", "km": "CAF ដែលបានបណ្តុះបណ្តាល: ស្ត្រី"},
    "actions_adopted": {"en": "JAAP actions adopted", "km": "សកម្មភាពដែលបានអនុម័ត"},
    "actions_completed": {"en": "JAAP actions completed", "km": "សកម្មភាពដែលបានបញ្ចប់"},
    "actions_dropped": {"en": "JAAP actions dropped", "km": "សកម្មភាពបានបោះបង់"},
    "completion_rate": {"en": "JAAP completion rate", "km": "អត្រាបញ្ចប់ផែនការសកម្មភាព"},
}  # fmt: skip


class Column(BaseModel):
    key: str
    label_km: str
    label_en: str


class Report(BaseModel):
    report: str
    area: str = Field(description="The area reported on ('' for national).")
    from_year: int
    to_year: int
    counting_rules: dict[str, str]
    columns: list[Column]
    rows: list[dict[str, Any]]


def _columns(keys: list[str]) -> list[Column]:
    out = []
    for key in keys:
        names = COLUMN_LABELS.get(key) or {"en": key, "km": key}
        out.append(Column(key=key, label_km=names["km"], label_en=names["en"]))
    return out


def _rate(completed: int, adopted: int) -> float | None:
    return round(completed / adopted, 4) if adopted else None


class Scope:
    def __init__(self, principal: Principal, location: str | None, from_year: int, to_year: int):
        if to_year < from_year:
            raise Problem.invalid("to_year", "must not be before from_year")
        if to_year - from_year > 20:
            raise Problem.invalid("to_year", "a report covers at most 21 years")
        if location is not None and not principal.covers(location):
            raise Problem.not_found(f"The area {location}")
        self.principal = principal
        self.location = location
        self.years = (from_year, to_year)
        self.area = location or principal.admin_code


def _scope(
    principal: Reader,
    from_year: Annotated[
        int, Query(ge=2000, le=2100, examples=[2020], description="The first year covered.")
    ],
    to_year: Annotated[
        int,
        Query(
            ge=2000,
            le=2100,
            examples=[2024],
            description="The last year covered: not before `from_year` and at most 20 years "
            "after it (a report covers at most 21 years); otherwise 422.",
        ),
    ],
    location: Annotated[LocationCode | None, Query(description="A subtree of your area")] = None,
) -> Scope:
    return Scope(principal, location, from_year, to_year)


_RESPONSES = {200: {"content": {"text/csv": {}}}, **{k: PROBLEM_RESPONSES[k] for k in (404, 422)}}
Format = Literal["json", "csv"] | None


def _answer(
    request: Request, report: Report, format: Format, language: Language
) -> Report | Response:
    wants_csv = format == "csv" or (
        format is None and "text/csv" in request.headers.get("accept", "")
    )
    if not wants_csv:
        return report
    out = io.StringIO()
    writer = csv.writer(out)
    label = "label_km" if language == "km" else "label_en"
    writer.writerow([getattr(c, label) for c in report.columns])
    for row in report.rows:
        writer.writerow(["" if row.get(c.key) is None else row.get(c.key) for c in report.columns])
    name = f"isaf-{report.report}-{report.area or 'national'}-{report.from_year}-{report.to_year}"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"',
                 "Content-Language": language},
    )  # fmt: skip


def _report(name: str, scope: Scope, keys: list[str], rows: list[dict]) -> Report:
    return Report(
        report=name, area=scope.area, from_year=scope.years[0], to_year=scope.years[1],
        counting_rules=COUNTING_RULES, columns=_columns(keys), rows=rows,
    )  # fmt: skip


async def participation_rows(session, scope: Scope, language: Language) -> list[dict]:
    rows = await repository.activities(
        session, scope.principal, location=scope.location, years=scope.years
    ) + await repository.scorecards(
        session, scope.principal, location=scope.location, years=scope.years
    )
    out = []
    for r in sorted(rows, key=lambda r: (r["year"], r["activity_type"])):
        participants, women, men = (
            int(r["participants"] or 0),
            int(r["women"] or 0),
            int(r["men"] or 0),
        )
        out.append({
            "year": int(r["year"]), "activity_type": r["activity_type"],
            "activity_label": labels(r["activity_type"])[language],
            "activities": int(r["activities"]), "participants": participants, "women": women,
            "men": men, "other_sex": participants - women - men,
            **{k: int(r[k] or 0) for k in ("with_disability", "ethnic_minority", "youth",
                                             "idpoor", "booklets")},
        })  # fmt: skip
    return out


ScopeDep = Annotated[Scope, Depends(_scope)]


@router.get(
    "/participation",
    responses=_RESPONSES,
    summary="Activities and participants by sex (and subgroups) per activity type and year",
    description="Includes completed community scorecards and self-assessments (from their "
    "anonymous participant profiles). Counting rules in `counting_rules`.",
)
async def participation_report(
    request: Request, session: SessionDep, scope: ScopeDep, language: LanguageDep,
    format: Format = None,
) -> Report:  # fmt: skip
    rows = await participation_rows(session, scope, language)
    keys = ["year", "activity_type", "activity_label", "activities", "participants", "women",
            "men", "other_sex", "with_disability", "ethnic_minority", "youth", "idpoor",
            "booklets"]  # fmt: skip
    return _answer(request, _report("participation", scope, keys, rows), format, language)  # type: ignore[return-value]


@router.get(
    "/cafs",
    responses=_RESPONSES,
    summary="CAFs trained (per commune and year, and over the range) and active now",
)
async def caf_report(
    request: Request, session: SessionDep, scope: ScopeDep, language: LanguageDep,
    format: Format = None,
) -> Report:  # fmt: skip
    trained = await repository.cafs_trained(
        session, scope.principal, location=scope.location, years=scope.years, by_commune=True
    )
    active = {
        r["location_code"]: r
        for r in await repository.cafs_active(session, scope.principal, location=scope.location)
    }
    rows = []
    for r in sorted(trained, key=lambda r: (r["location_code"], r["year"] or 9999)):
        now = active.get(r["location_code"], {})
        rows.append({
            "location_code": r["location_code"], "year": r["year"] or "all",
            "cafs_trained": int(r["cafs_trained"]), "cafs_trained_women": int(r["women"]),
            "cafs_registered": int(now.get("registered", 0)),
            "cafs_active": int(now.get("active", 0)),
            "cafs_active_women": int(now.get("active_women", 0)),
        })  # fmt: skip
    for code, now in sorted(active.items()):
        if not any(r["location_code"] == code for r in rows):
            rows.append({
                "location_code": code, "year": "all", "cafs_trained": 0,
                "cafs_trained_women": 0, "cafs_registered": int(now["registered"]),
                "cafs_active": int(now["active"]), "cafs_active_women": int(now["active_women"]),
            })  # fmt: skip
    keys = ["location_code", "year", "cafs_trained", "cafs_trained_women", "cafs_registered",
            "cafs_active", "cafs_active_women"]  # fmt: skip
    return _answer(request, _report("cafs", scope, keys, rows), format, language)  # type: ignore[return-value]


@router.get(
    "/scorecard-results",
    responses=_RESPONSES,
    summary="Scorecard medians per facility type and standard indicator over the years",
)
async def scorecard_results_report(
    request: Request, session: SessionDep, scope: ScopeDep, language: LanguageDep,
    format: Format = None,
) -> Report:  # fmt: skip
    found = await repository.indicator_medians(
        session, scope.principal, location=scope.location, years=scope.years
    )
    rows = [
        {"year": int(r["year"]), "facility_type": r["facility_type"], "kind": r["kind"],
         "indicator_code": r["code"], "indicator_en": r["name_en"], "indicator_km": r["name_km"],
         "scorecards": int(r["scorecards"]), "votes": int(r["votes"]),
         "median": round(float(r["median"]), 1)}
        for r in found
    ]  # fmt: skip
    keys = ["year", "facility_type", "kind", "indicator_code", "indicator_en", "indicator_km",
            "scorecards", "votes", "median"]  # fmt: skip
    return _answer(request, _report("scorecard-results", scope, keys, rows), format, language)  # type: ignore[return-value]


async def completion_rows(session, scope: Scope) -> list[dict]:
    found = await repository.jaap_completion(
        session, scope.principal, location=scope.location, years=scope.years
    )
    return [
        {"year": int(r["year"]), "jaaps": int(r["jaaps"]), "actions_adopted": int(r["adopted"]),
         "actions_completed": int(r["completed"]), "actions_in_progress": int(r["in_progress"]),
         "actions_not_started": int(r["not_started"]), "actions_dropped": int(r["dropped"]),
         "completion_rate": _rate(int(r["completed"]), int(r["adopted"]))}
        for r in sorted(found, key=lambda r: r["year"])
    ]  # fmt: skip


@router.get(
    "/jaap-completion",
    responses=_RESPONSES,
    summary="JAAP completion rate per year: completed over adopted actions, with both counts",
    description="Dropped actions stay in the denominator (see counting_rules).",
)
async def jaap_completion_report(
    request: Request, session: SessionDep, scope: ScopeDep, language: LanguageDep,
    format: Format = None,
) -> Report:  # fmt: skip
    rows = await completion_rows(session, scope)
    keys = ["year", "jaaps", "actions_adopted", "actions_completed", "actions_in_progress",
            "actions_not_started", "actions_dropped", "completion_rate"]  # fmt: skip
    return _answer(request, _report("jaap-completion", scope, keys, rows), format, language)  # type: ignore[return-value]


@router.get(
    "/summary",
    responses=_RESPONSES,
    summary="The project summary table (one row per measure, one column per year and the "
    "total), computed from the records alone",
    description="I4C disseminations and participants, door-to-door rounds, scorecards and "
    "participants, self-assessments and providers, interface meetings and JAAPs, public "
    "forums and participants, CAFs trained, women beside each total, and JAAP completion per "
    "year. Counting rules in `counting_rules`.",
)
async def summary_report(
    request: Request, session: SessionDep, scope: ScopeDep, language: LanguageDep,
    format: Format = None,
) -> Report:  # fmt: skip
    years = list(range(scope.years[0], scope.years[1] + 1))
    table: dict[str, dict[Any, Any]] = {
        m: dict.fromkeys([*years, "total"], 0) for m in SUMMARY_MEASURES
    }

    def add(measure: str, year: int, value: int) -> None:
        table[measure][year] += value
        table[measure]["total"] += value

    by_type = {
        "i4c_dissemination": ("i4c_disseminations", "i4c_participants", "i4c_women"),
        "door_to_door": ("door_to_door_rounds", "door_to_door_people", "door_to_door_women"),
        "community": ("scorecards", "scorecard_participants", "scorecard_women"),
        "self_assessment": (
            "self_assessments", "self_assessment_providers", "self_assessment_women",
        ),
        "interface_meeting": ("interface_meetings", "interface_meeting_participants",
                              "interface_meeting_women"),
        "public_forum": ("public_forums", "public_forum_participants", "public_forum_women"),
    }  # fmt: skip
    for row in await participation_rows(session, scope, language):
        measures = by_type.get(row["activity_type"])
        if measures is None:
            continue  # JAAP committee meetings are in the participation report
        count, people, women = measures
        add(count, row["year"], row["activities"])
        add(people, row["year"], row["participants"])
        add(women, row["year"], row["women"])
        if row["activity_type"] == "door_to_door":
            add("booklets", row["year"], row["booklets"])
    for row in await completion_rows(session, scope):
        for measure in ("jaaps", "actions_adopted", "actions_completed", "actions_dropped"):
            add(measure, row["year"], row[measure])
    for year in [*years, "total"]:
        table["completion_rate"][year] = _rate(
            table["actions_completed"][year], table["actions_adopted"][year]
        )
    trained = await repository.cafs_trained(
        session, scope.principal, location=scope.location, years=scope.years, by_commune=False
    )
    for row in trained:
        key = "total" if row["year"] is None else int(row["year"])
        table["cafs_trained"][key] = int(row["cafs_trained"])
        table["cafs_trained_women"][key] = int(row["women"])
    rows = [
        {"measure": m, "label_km": SUMMARY_MEASURES[m]["km"], "label_en": SUMMARY_MEASURES[m]["en"],
         **{str(y): v for y, v in table[m].items()}}
        for m in SUMMARY_MEASURES
    ]  # fmt: skip
    columns = ["measure", "label_km", "label_en", *(str(y) for y in years), "total"]
    report = _report("summary", scope, columns, rows)
    for column in report.columns:
        if column.key.isdigit():
            column.label_km = column.label_en = column.key
    return _answer(request, report, format, language)  # type: ignore[return-value]
