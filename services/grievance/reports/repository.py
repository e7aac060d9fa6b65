"""Report queries: counts by dimension and timing figures over the caller's subtree."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, extract, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.grievance.grievances.models import Grievance
from services.grievance.grievances.repository import visible_to, within
from shared.principal import Principal

DIMENSIONS = ("category", "channel", "status", "tier", "sex")


def _scope(
    principal: Principal, location: str | None, start: datetime, end: datetime
) -> ColumnElement[bool]:
    condition = and_(
        visible_to(principal), Grievance.submitted_at >= start, Grievance.submitted_at < end
    )
    return and_(condition, within(location)) if location else condition


def _sex() -> ColumnElement[str]:
    return case(
        (Grievance.anonymous, literal_column("'anonymous'")),
        else_=func.coalesce(Grievance.complainant_sex, literal_column("'unknown'")),
    )


async def counts(
    session: AsyncSession,
    principal: Principal,
    *,
    location: str | None,
    start: datetime,
    end: datetime,
) -> dict[str, dict[str, int]]:
    columns = {
        "category": Grievance.category,
        "channel": Grievance.channel,
        "status": Grievance.status,
        "tier": Grievance.handling_tier,
        "sex": _sex(),
    }
    result: dict[str, dict[str, int]] = {name: {} for name in DIMENSIONS}
    labelled = [column.label(name) for name, column in columns.items()]
    statement = (
        select(*labelled, func.count().label("n"))
        .where(_scope(principal, location, start, end))
        .group_by(func.grouping_sets(*columns.values()))
    )
    for row in (await session.execute(statement)).mappings():
        for name in DIMENSIONS:
            if row[name] is not None:
                result[name][row[name]] = int(row["n"])
                break
    return result


def _hours(later, earlier) -> ColumnElement[float]:
    return extract("epoch", later - earlier) / 3600.0


async def figures(
    session: AsyncSession,
    principal: Principal,
    *,
    location: str | None,
    start: datetime,
    end: datetime,
) -> dict[str, float | int | None]:
    resolved = Grievance.resolved_at.is_not(None)
    statement = select(
        func.count().label("total"),
        func.percentile_cont(0.5)
        .within_group(_hours(Grievance.acknowledged_at, Grievance.submitted_at))
        .label("median_hours_to_acknowledge"),
        func.percentile_cont(0.5)
        .within_group(_hours(Grievance.resolved_at, Grievance.submitted_at))
        .label("median_hours_to_resolve"),
        func.count().filter(resolved).label("resolved"),
        func.count()
        .filter(and_(resolved, Grievance.sla_breach_count == 0))
        .label("resolved_within_sla"),
        func.count().filter(Grievance.escalation_count > 0).label("escalated"),
        func.count().filter(Grievance.sla_breach_count > 0).label("sla_breached"),
        func.avg(Grievance.rating).label("average_rating"),
    ).where(_scope(principal, location, start, end))
    return dict((await session.execute(statement)).mappings().one())
