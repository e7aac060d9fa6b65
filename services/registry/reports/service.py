"""The reports' rules: which area a caller may report on, how it is broken down, how ages
are grouped, and the fixed shape of every table (every child unit x every IDPoor level,
zeros included, then the totals), so a spreadsheet built on it never loses a column."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.households.models import PovertyLevel
from services.registry.reports import repository
from services.registry.reports.labels import (
    AGED,
    ALL_PROGRAMMES,
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
    BenefitReportRow,
    BenefitTable,
    EnrolmentReport,
    EnrolmentReportRow,
    EnrolmentTable,
    HouseholdReport,
    HouseholdReportRow,
    ReportArea,
    ReportColumn,
)
from shared import clock
from shared.gazetteer import Level, get_gazetteer
from shared.principal import Principal
from shared.problems import Problem
from shared.tiers import tier_for_code

LEVELS = [level.value for level in PovertyLevel]
ALL_LEVELS = "ALL"


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
    reference_date = reference_date or clock.today()
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

    found = {unit for unit, _ in household_counts} | {unit for unit, _ in member_counts}
    locations = _locations(scope, found, language)

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


# -- enrolments and benefits -----------------------------------------------------------------

MAX_MONTHS = 36
ALL = "ALL"


def _month(text: str, field: str) -> date:
    try:
        year, month = text.split("-")
        return date(int(year), int(month), 1)
    except ValueError:
        raise Problem.invalid(field, "a month as YYYY-MM is required") from None


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def period_range(period_from: str | None, period_to: str | None) -> list[date]:
    """The months of the range (first days); default: the twelve months up to this one."""
    last = _month(period_to, "query.to") if period_to else clock.today().replace(day=1)
    first = _month(period_from, "query.from") if period_from else _add_months(last, -11)
    if first > last:
        raise Problem.invalid("query.to", "must not be before `from`")
    months = (last.year - first.year) * 12 + last.month - first.month + 1
    if months > MAX_MONTHS:
        raise Problem.invalid("query.from", f"a range of at most {MAX_MONTHS} months is allowed")
    return [_add_months(first, n) for n in range(months)]


def _table_columns(model: type, language: Language) -> list[ReportColumn]:
    return [
        ReportColumn(key=key, label=pick(HEADINGS[key], language)) for key in model.model_fields
    ]


def _locations(scope: ReportScope, found: set, language: Language) -> list[tuple]:
    """(unit as grouped, code shown, name shown): every child unit, then the area's total.
    Units the gazetteer no longer lists (renamed or merged) still show, under their code."""
    names = dict(scope.unit_names)
    for unit in found:
        if unit is not None and unit not in names:
            names[unit] = unit
    return [(unit, unit, names[unit]) for unit in sorted(names)] + [
        (None, scope.area.code, pick(TOTAL, language))
    ]


async def enrolment_report(
    session: AsyncSession,
    *,
    principal: Principal,
    location: str | None = None,
    period_from: str | None = None,
    period_to: str | None = None,
    language: Language = "en",
) -> EnrolmentReport:
    scope = report_scope(principal, location=location, language=language)
    months = period_range(period_from, period_to)
    start, end = months[0], _add_months(months[-1], 1)
    programmes = await repository.programmes(session)
    enrolments = await repository.count_enrolments_by_unit_and_programme(
        session,
        principal=principal,
        area=scope.area_principal,
        unit_length=scope.unit_length,
        period_start=start,
        period_end=end,
    )
    benefits = await repository.count_benefits_by_unit_programme_and_month(
        session,
        principal=principal,
        area=scope.area_principal,
        unit_length=scope.unit_length,
        period_start=start,
        period_end=end,
    )
    programme_names = {p.code: (p.name_km if language == "km" else p.name_en) for p in programmes}
    for row in [*enrolments, *benefits]:  # a programme deleted since keeps its code
        if row["programme_code"] is not None:
            programme_names.setdefault(row["programme_code"], row["programme_code"])
    programme_list = [(code, name) for code, name in sorted(programme_names.items())]
    programme_list.append((None, pick(ALL_PROGRAMMES, language)))
    periods = [(m.strftime("%Y-%m"), m.strftime("%Y-%m")) for m in months] + [(None, ALL)]

    enrolment_counts = {(r["unit"], r["programme_code"]): r for r in enrolments}
    benefit_counts = {(r["unit"], r["programme_code"], r["period"]): r for r in benefits}
    found = {r["unit"] for r in [*enrolments, *benefits]}
    locations = _locations(scope, found, language)
    enrolment_fields = [k for k in EnrolmentReportRow.model_fields if k not in _KEY_FIELDS]
    benefit_fields = [k for k in BenefitReportRow.model_fields if k not in _KEY_FIELDS]

    enrolment_rows = []
    benefit_rows = []
    for unit, code, name in locations:
        for programme, programme_name in programme_list:
            counted = enrolment_counts.get((unit, programme), {})
            enrolment_rows.append(
                EnrolmentReportRow(
                    location_code=code,
                    location_name=name,
                    programme_code=programme or ALL,
                    programme_name=programme_name,
                    **{key: counted.get(key, 0) for key in enrolment_fields},
                )
            )
            for period, shown in periods:
                counted = benefit_counts.get((unit, programme, period), {})
                benefit_rows.append(
                    BenefitReportRow(
                        location_code=code,
                        location_name=name,
                        programme_code=programme or ALL,
                        programme_name=programme_name,
                        period=shown,
                        **{key: counted.get(key, 0) for key in benefit_fields},
                    )
                )
    return EnrolmentReport(
        area=scope.area,
        breakdown_level=scope.breakdown_level,
        period_from=months[0].strftime("%Y-%m"),
        period_to=months[-1].strftime("%Y-%m"),
        language=language,
        enrolments=EnrolmentTable(
            columns=_table_columns(EnrolmentReportRow, language), rows=enrolment_rows
        ),
        benefits=BenefitTable(
            columns=_table_columns(BenefitReportRow, language), rows=benefit_rows
        ),
    )


_KEY_FIELDS = frozenset(
    {"location_code", "location_name", "programme_code", "programme_name", "period"}
)
