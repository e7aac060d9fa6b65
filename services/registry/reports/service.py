"""The reports' rules: which area a caller may report on, how it is broken down, how ages
are grouped, and the fixed shape of every table (every child unit x every IDPoor level,
zeros included, then the totals), so a spreadsheet built on it never loses a column."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.households.models import PovertyLevel
from services.registry.reports import repository
from services.registry.reports.labels import (
    AGED,
    COUNTRY,
    HEADINGS,
    MEMBERS,
    POVERTY_LEVELS,
    SEXES,
    TOTAL,
    Language,
    pick,
)
from services.registry.reports.schemas import (
    AGE_GROUPS,
    HouseholdReport,
    HouseholdReportRow,
    ReportArea,
    ReportColumn,
)
from shared.gazetteer import Level, get_gazetteer
from shared.principal import Principal
from shared.problems import Problem
from shared.tiers import tier_for_code

CAMBODIA = ZoneInfo("Asia/Phnom_Penh")
LEVELS = [level.value for level in PovertyLevel]
ALL_LEVELS = "ALL"


def today() -> date:
    """Today in Cambodia (the default reference date)."""
    return datetime.now(CAMBODIA).date()


@dataclass(frozen=True)
class ReportScope:
    """The area a report covers and the units its rows are broken down by."""

    area: ReportArea
    area_principal: Principal  # the area as the principal administering it would see it
    unit_length: int  # code length of the rows' locations
    breakdown_level: str
    unit_names: dict[str, str]  # every child unit of the area, in the requested language


def report_scope(principal: Principal, *, location: str | None, language: Language) -> ReportScope:
    """The caller's area, or the sub-area `location` inside it (404 outside it, like every
    other read of something outside one's jurisdiction)."""
    if principal.tier is None:
        raise Problem.forbidden("Reports are for staff of a tier; machine clients have none.")
    gazetteer = get_gazetteer()
    if location is not None:
        unit = gazetteer.require(location)  # the query type has already validated it
        if unit.level is Level.VILLAGE:
            raise Problem.invalid(
                "query.location",
                "a village has no smaller units to report by; give a province, district or "
                "commune code",
            )
        if not principal.covers(location):
            raise Problem.not_found(f"The location {location}")
        area_code = location
    else:
        area_code = principal.admin_code
    if area_code:
        unit = gazetteer.require(area_code)
        area = ReportArea(code=area_code, level=unit.level.value, name=_name(unit, language))
        tier = tier_for_code(area_code)
        area_principal = Principal(sub=principal.sub, tier=tier, admin_code=area_code)
    else:
        area = ReportArea(code="", level="country", name=pick(COUNTRY, language))
        area_principal = principal
    children = gazetteer.children(area_code)
    unit_length = len(area_code) + 2
    breakdown = {2: "province", 4: "district", 6: "commune", 8: "village"}[unit_length]
    return ReportScope(
        area=area,
        area_principal=area_principal,
        unit_length=unit_length,
        breakdown_level=breakdown,
        unit_names={child.code: _name(child, language) for child in children},
    )


def _name(unit, language: Language) -> str:
    return unit.name_km if language == "km" else unit.name_en


def years_before(day: date, years: int) -> date:
    """The date `years` before `day` (29 February falls back to the 28th)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def age_bounds(reference_date: date) -> list[tuple[str, date | None, date]]:
    """Each age group as birth dates: someone is at least N years old on the reference date
    when born on or before the date N years earlier."""
    bounds = []
    for key, youngest, oldest in AGE_GROUPS:
        born_after = years_before(reference_date, oldest + 1) if oldest is not None else None
        bounds.append((key, born_after, years_before(reference_date, youngest)))
    return bounds


def _age_label(key: str) -> str:
    return key.replace("_plus", "+").replace("_", "-")


def household_report_columns(language: Language) -> list[ReportColumn]:
    columns = []
    sexes = {f"members_{sex}": sex for sex in SEXES}
    for key in HouseholdReportRow.model_fields:
        if key in HEADINGS:
            label = pick(HEADINGS[key], language)
        elif key in sexes:
            label = f"{pick(MEMBERS, language)}: {pick(SEXES[sexes[key]], language)}"
        else:
            who, _, group = key.partition("_age_")
            who_label = pick(MEMBERS, language) if who == "members" else pick(SEXES[who], language)
            label = f"{who_label} {pick(AGED, language)} {_age_label(group)}"
        columns.append(ReportColumn(key=key, label=label))
    return columns


async def household_report(
    session: AsyncSession,
    *,
    principal: Principal,
    location: str | None = None,
    reference_date: date | None = None,
    statuses: Sequence[str] = ("active",),
    language: Language = "en",
) -> HouseholdReport:
    scope = report_scope(principal, location=location, language=language)
    reference_date = reference_date or today()
    statuses = sorted(set(statuses))
    households = await repository.count_households_by_unit_and_level(
        session,
        principal=principal,
        area=scope.area_principal,
        unit_length=scope.unit_length,
        statuses=statuses,
    )
    members = await repository.count_members_by_unit_and_level(
        session,
        principal=principal,
        area=scope.area_principal,
        unit_length=scope.unit_length,
        statuses=statuses,
        born_on_or_before=reference_date,
        age_bounds=age_bounds(reference_date),
    )
    household_counts = {(r["unit"], r["poverty_level"]): r["households"] for r in households}
    member_counts = {(r["unit"], r["poverty_level"]): r for r in members}
    count_fields = [
        key
        for key in HouseholdReportRow.model_fields
        if key.startswith(("members", "female", "male"))
    ]

    # Units the gazetteer no longer lists (renamed or merged) still show, under their code.
    found = {unit for unit, _ in household_counts} | {unit for unit, _ in member_counts}
    unit_names = dict(scope.unit_names)
    for unit in sorted(u for u in found if u is not None and u not in unit_names):
        unit_names[unit] = unit
    locations: list[tuple[str | None, str, str]] = [
        (unit, unit, unit_names[unit]) for unit in sorted(unit_names)
    ]
    locations.append((None, scope.area.code, pick(TOTAL, language)))

    rows = []
    for unit, code, name in locations:
        for level in [*LEVELS, None]:
            counted = member_counts.get((unit, level), {})
            rows.append(
                HouseholdReportRow(
                    location_code=code,
                    location_name=name,
                    poverty_level=level or ALL_LEVELS,
                    poverty_level_label=pick(POVERTY_LEVELS[level or ALL_LEVELS], language),
                    households=household_counts.get((unit, level), 0),
                    **{key: counted.get(key, 0) for key in count_fields},
                )
            )
    return HouseholdReport(
        area=scope.area,
        breakdown_level=scope.breakdown_level,
        reference_date=reference_date,
        household_status=statuses,
        language=language,
        columns=household_report_columns(language),
        rows=rows,
    )
