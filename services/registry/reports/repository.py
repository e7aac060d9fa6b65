"""The reports' queries: a few GROUP BY queries over the caller's area, totals included
(GROUPING SETS / CUBE), so the database does the counting and Python only lays out the result.

Both filters of the area go through the jurisdiction helper: the caller's own jurisdiction,
and the (narrower) area the report was asked for, expressed as the principal administering
it. The prefix match on `village_code` is served by the `text_pattern_ops` location indexes;
the covering ones of migration 0008 make the household and member counts index-only scans.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.benefits.models import BenefitRecord, BenefitStatus
from services.registry.enrolments.models import Enrolment, EnrolmentStatus
from services.registry.households.models import Household, Member, MemberStatus
from services.registry.programmes.models import Programme
from shared.jurisdiction import jurisdiction_filter
from shared.principal import Principal

# A member's age group: (key, born after (None: no lower bound), born on or before).
AgeBounds = Sequence[tuple[str, date | None, date]]


def _unit(column: Any, unit_length: int) -> sa.ColumnElement[str]:
    # A literal length, so SELECT and GROUP BY hold the very same expression.
    return sa.func.left(column, sa.literal_column(str(int(unit_length)))).label("unit")


def _grouping(unit: sa.ColumnElement, level: sa.ColumnElement) -> sa.ColumnElement:
    """Each (unit, level), each unit, each level, and the whole area; None marks a total."""
    return sa.func.grouping_sets(
        sa.tuple_(unit, level), sa.tuple_(unit), sa.tuple_(level), sa.tuple_()
    )


def _in_area(principal: Principal, area: Principal, column: Any) -> sa.ColumnElement[bool]:
    return jurisdiction_filter(principal, column) & jurisdiction_filter(area, column)


async def _room_to_aggregate(session: AsyncSession) -> None:
    """More memory for this transaction's hash joins and aggregates: a national report joins
    17 M members to 4 M households, which in the default 4 MB spills to disk in 64 batches
    (32 s measured; 19 s with this)."""
    await session.execute(sa.text("SET LOCAL work_mem = '256MB'"))


async def count_households_by_unit_and_level(
    session: AsyncSession,
    *,
    principal: Principal,
    area: Principal,
    unit_length: int,
    statuses: Sequence[str],
) -> list[dict[str, Any]]:
    """Households per (child unit, IDPoor level), with the GROUPING SETS totals."""
    unit = _unit(Household.village_code, unit_length)
    level = Household.poverty_level.label("poverty_level")
    stmt = (
        sa.select(unit, level, sa.func.count().label("households"))
        .where(
            _in_area(principal, area, Household.village_code),
            Household.status.in_(list(statuses)),
        )
        .group_by(_grouping(unit, level))
    )
    await _room_to_aggregate(session)
    return [dict(row) for row in (await session.execute(stmt)).mappings()]


async def count_members_by_unit_and_level(
    session: AsyncSession,
    *,
    principal: Principal,
    area: Principal,
    unit_length: int,
    statuses: Sequence[str],
    born_on_or_before: date,
    age_bounds: AgeBounds,
) -> list[dict[str, Any]]:
    """Active members per (child unit, their household's IDPoor level), counted by sex, by
    age group and by both, with the GROUPING SETS totals."""
    unit = _unit(Member.village_code, unit_length)
    level = Household.poverty_level.label("poverty_level")
    female = Member.sex == "female"
    male = Member.sex == "male"
    counts: list[sa.ColumnElement] = [
        sa.func.count().label("members"),
        sa.func.count().filter(female).label("members_female"),
        sa.func.count().filter(male).label("members_male"),
    ]
    for key, born_after, born_by in age_bounds:
        in_group = Member.birth_date <= born_by
        if born_after is not None:
            in_group = in_group & (Member.birth_date > born_after)
        counts.append(sa.func.count().filter(in_group).label(f"members_age_{key}"))
        counts.append(sa.func.count().filter(female & in_group).label(f"female_age_{key}"))
        counts.append(sa.func.count().filter(male & in_group).label(f"male_age_{key}"))
    stmt = (
        sa.select(unit, level, *counts)
        .join(Household, Household.id == Member.household_id)
        .where(
            # Both copies of the location are filtered, so either location index can serve.
            _in_area(principal, area, Member.village_code),
            _in_area(principal, area, Household.village_code),
            Household.status.in_(list(statuses)),
            Member.status == MemberStatus.ACTIVE.value,
            Member.birth_date <= born_on_or_before,
        )
        .group_by(_grouping(unit, level))
    )
    await _room_to_aggregate(session)
    return [dict(row) for row in (await session.execute(stmt)).mappings()]


async def programmes(session: AsyncSession) -> list[Programme]:
    """Every programme, in code order (reports list each, with zeros)."""
    return list((await session.execute(sa.select(Programme).order_by(Programme.code))).scalars())


async def count_enrolments_by_unit_and_programme(
    session: AsyncSession,
    *,
    principal: Principal,
    area: Principal,
    unit_length: int,
    period_start: date,
    period_end: date,
) -> list[dict[str, Any]]:
    """Enrolments of the area's households per (child unit, programme) by status, with the
    CUBE totals; period_end is exclusive."""
    unit = _unit(Household.village_code, unit_length)
    programme = Enrolment.programme_code.label("programme_code")
    counts = [sa.func.count().label("enrolments")]
    for status in EnrolmentStatus:
        counts.append(sa.func.count().filter(Enrolment.status == status.value).label(status.value))
    counts += [
        sa.func.count()
        .filter(Enrolment.enrolled_on >= period_start, Enrolment.enrolled_on < period_end)
        .label("enrolled_in_period"),
        sa.func.count()
        .filter(Enrolment.exited_on >= period_start, Enrolment.exited_on < period_end)
        .label("exited_in_period"),
    ]
    stmt = (
        sa.select(unit, programme, *counts)
        .join(Household, Household.id == Enrolment.household_id)
        .where(_in_area(principal, area, Household.village_code))
        .group_by(sa.func.cube(unit, programme))
    )
    await _room_to_aggregate(session)
    return [dict(row) for row in (await session.execute(stmt)).mappings()]


async def count_benefits_by_unit_programme_and_month(
    session: AsyncSession,
    *,
    principal: Principal,
    area: Principal,
    unit_length: int,
    period_start: date,
    period_end: date,
) -> list[dict[str, Any]]:
    """Benefit records whose period starts in [period_start, period_end), per (child unit,
    programme, month), with the CUBE totals."""
    unit = _unit(Household.village_code, unit_length)
    programme = Enrolment.programme_code.label("programme_code")
    month = sa.func.to_char(BenefitRecord.period_start, sa.literal_column("'YYYY-MM'")).label(
        "period"
    )

    def riel(condition: sa.ColumnElement[bool] | None = None) -> sa.ColumnElement[int]:
        total = sa.func.sum(BenefitRecord.amount_khr)
        if condition is not None:
            total = total.filter(condition)
        return sa.cast(sa.func.coalesce(total, 0), sa.BigInteger)

    paid = BenefitRecord.status == BenefitStatus.PAID.value
    stmt = (
        sa.select(
            unit,
            programme,
            month,
            sa.func.count().label("benefits"),
            riel().label("amount_khr"),
            *(
                sa.func.count().filter(BenefitRecord.status == status.value).label(status.value)
                for status in BenefitStatus
            ),
            riel(paid).label("paid_amount_khr"),
        )
        .join(Enrolment, Enrolment.id == BenefitRecord.enrolment_id)
        .join(Household, Household.id == Enrolment.household_id)
        .where(
            _in_area(principal, area, Household.village_code),
            BenefitRecord.period_start >= period_start,
            BenefitRecord.period_start < period_end,
        )
        .group_by(sa.func.cube(unit, programme, month))
    )
    await _room_to_aggregate(session)
    return [dict(row) for row in (await session.execute(stmt)).mappings()]
