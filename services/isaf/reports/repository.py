"""Report queries over the caller's subtree and a range of years. Every query filters with
`jurisdiction_filter` (the caller's area) and `subtree` (the area asked for)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, extract, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.isaf.activities.models import Activity
from services.isaf.areas import subtree
from services.isaf.cafs.models import Caf, Training, TrainingAttendance
from services.isaf.jaaps.models import Jaap, JaapAction
from services.isaf.scorecards.models import Participant, Scorecard, ScorecardIndicator, Vote
from shared.jurisdiction import jurisdiction_filter
from shared.principal import Principal


def _scope(principal: Principal, location: str | None, column) -> ColumnElement[bool]:
    condition = jurisdiction_filter(principal, column)
    return and_(condition, subtree(location, column)) if location else condition


async def activities(session: AsyncSession, principal: Principal, *, location, years) -> list[dict]:
    year = extract("year", Activity.held_on).cast(Activity.participants_total.type)
    statement = (
        select(
            year.label("year"),
            Activity.activity_type,
            func.count().label("activities"),
            func.sum(Activity.participants_total).label("participants"),
            func.sum(Activity.participants_female).label("women"),
            func.sum(Activity.participants_male).label("men"),
            func.sum(Activity.with_disability).label("with_disability"),
            func.sum(Activity.ethnic_minority).label("ethnic_minority"),
            func.sum(Activity.youth).label("youth"),
            func.sum(Activity.idpoor).label("idpoor"),
            func.sum(Activity.booklets).label("booklets"),
        )
        .where(_scope(principal, location, Activity.location_code), year.between(*years))
        .group_by(year, Activity.activity_type)
    )
    return [dict(r) for r in (await session.execute(statement)).mappings()]


async def scorecards(session: AsyncSession, principal: Principal, *, location, years) -> list[dict]:
    """Completed scorecards per year and kind, with their participants by sex and subgroup."""
    per_card = (
        select(
            Scorecard.id,
            Scorecard.year,
            Scorecard.kind,
            func.count(Participant.id).label("participants"),
            func.count(Participant.id).filter(Participant.sex == "female").label("women"),
            func.count(Participant.id).filter(Participant.sex == "male").label("men"),
            func.count(Participant.id).filter(Participant.disability).label("with_disability"),
            func.count(Participant.id).filter(Participant.ethnic_minority).label("ethnic_minority"),
            func.count(Participant.id).filter(Participant.youth).label("youth"),
            func.count(Participant.id).filter(Participant.idpoor).label("idpoor"),
        )
        .select_from(Scorecard)
        .outerjoin(Participant, Participant.scorecard_id == Scorecard.id)
        .where(
            _scope(principal, location, Scorecard.location_code),
            Scorecard.status == "completed",
            Scorecard.year.between(*years),
        )
        .group_by(Scorecard.id)
        .subquery()
    )
    statement = select(
        per_card.c.year,
        per_card.c.kind.label("activity_type"),
        func.count().label("activities"),
        *(func.sum(per_card.c[name]).label(name) for name in (
            "participants", "women", "men", "with_disability", "ethnic_minority", "youth",
            "idpoor",
        )),
        literal(0).label("booklets"),
    ).group_by(per_card.c.year, per_card.c.kind)  # fmt: skip
    return [dict(r) for r in (await session.execute(statement)).mappings()]


async def cafs_trained(
    session: AsyncSession, principal: Principal, *, location, years, by_commune: bool
) -> list[dict]:
    """Distinct CAFs trained per year (and per commune), and over the whole range (year None)."""
    year = extract("year", Training.starts_on).cast(Training.attendees_total.type)
    scope = and_(
        _scope(principal, location, Caf.location_code),
        Training.audience == "caf",
        year.between(*years),
    )
    keys = [Caf.location_code] if by_commune else []
    results = []
    for grouping in ([year], []):
        statement = (
            select(
                *([year.label("year")] if grouping else [literal(None).label("year")]),
                *keys,
                func.count(func.distinct(Caf.id)).label("cafs_trained"),
                func.count(func.distinct(Caf.id)).filter(Caf.sex == "female").label("women"),
            )
            .select_from(TrainingAttendance)
            .join(Training, Training.id == TrainingAttendance.training_id)
            .join(Caf, Caf.id == TrainingAttendance.caf_id)
            .where(scope)
            .group_by(*grouping, *keys)
        )
        results += [dict(r) for r in (await session.execute(statement)).mappings()]
    return results


async def cafs_active(session: AsyncSession, principal: Principal, *, location) -> list[dict]:
    statement = (
        select(
            Caf.location_code,
            func.count().label("registered"),
            func.count().filter(Caf.active).label("active"),
            func.count().filter(and_(Caf.active, Caf.sex == "female")).label("active_women"),
        )
        .where(_scope(principal, location, Caf.location_code))
        .group_by(Caf.location_code)
    )
    return [dict(r) for r in (await session.execute(statement)).mappings()]


async def indicator_medians(
    session: AsyncSession, principal: Principal, *, location, years
) -> list[dict]:
    """Per year, facility type, kind and standard indicator: scorecards, votes and the median
    of all their votes (percentile_cont(0.5): the mean of the two middle votes when even)."""
    statement = (
        select(
            Scorecard.year,
            Scorecard.facility_type,
            Scorecard.kind,
            ScorecardIndicator.code,
            func.min(ScorecardIndicator.name_en).label("name_en"),
            func.min(ScorecardIndicator.name_km).label("name_km"),
            func.count(func.distinct(Scorecard.id)).label("scorecards"),
            func.count().label("votes"),
            func.percentile_cont(0.5).within_group(Vote.score).label("median"),
        )
        .select_from(Vote)
        .join(
            ScorecardIndicator,
            and_(
                ScorecardIndicator.scorecard_id == Vote.scorecard_id,
                ScorecardIndicator.id == Vote.indicator_id,
            ),
        )
        .join(Scorecard, Scorecard.id == Vote.scorecard_id)
        .where(
            _scope(principal, location, Scorecard.location_code),
            Scorecard.status == "completed",
            Scorecard.year.between(*years),
            ScorecardIndicator.code.is_not(None),
        )
        .group_by(Scorecard.year, Scorecard.facility_type, Scorecard.kind, ScorecardIndicator.code)
        .order_by(Scorecard.year, Scorecard.facility_type, Scorecard.kind, ScorecardIndicator.code)
    )
    return [dict(r) for r in (await session.execute(statement)).mappings()]


async def jaap_completion(
    session: AsyncSession, principal: Principal, *, location, years
) -> list[dict]:
    actions = (
        select(
            JaapAction.year,
            func.count().label("adopted"),
            func.count().filter(JaapAction.status == "completed").label("completed"),
            func.count().filter(JaapAction.status == "in_progress").label("in_progress"),
            func.count().filter(JaapAction.status == "not_started").label("not_started"),
            func.count().filter(JaapAction.status == "dropped").label("dropped"),
        )
        .where(_scope(principal, location, JaapAction.location_code),
               JaapAction.year.between(*years))
        .group_by(JaapAction.year)
    )  # fmt: skip
    jaaps = (
        select(Jaap.year, func.count().label("jaaps"))
        .where(_scope(principal, location, Jaap.location_code), Jaap.year.between(*years))
        .group_by(Jaap.year)
    )
    counts = {r["year"]: dict(r) for r in (await session.execute(actions)).mappings()}
    for row in (await session.execute(jaaps)).mappings():
        counts.setdefault(
            row["year"], {"year": row["year"], "adopted": 0, "completed": 0, "in_progress": 0,
                          "not_started": 0, "dropped": 0},
        )["jaaps"] = row["jaaps"]  # fmt: skip
    return [{"jaaps": 0, **c} for c in counts.values()]
