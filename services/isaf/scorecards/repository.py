"""Queries on scorecards and their sittings; reads are limited to the caller's area here.

A sitting is replaced as a whole: its rows are deleted and inserted again in the request's
transaction (bulk statements), so a failed upload leaves the previous sitting untouched.
"""

from __future__ import annotations

import uuid

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.isaf.areas import subtree
from services.isaf.scorecards.models import Participant, Scorecard, ScorecardIndicator, Vote
from shared.http.pagination import PageParams, paginate
from shared.jurisdiction import jurisdiction_filter
from shared.principal import Principal


async def get(session: AsyncSession, scorecard_id: uuid.UUID) -> Scorecard | None:
    return await session.get(Scorecard, scorecard_id)


async def lock_sitting(session: AsyncSession, scorecard_id: uuid.UUID) -> None:
    """Serialise uploads of one sitting (the tablet retrying while its first upload is still
    running): the second waits for the first to commit, then sees its digest. A transaction
    lock, so it cannot outlive the request; it also covers a scorecard that does not exist
    yet, which no row lock could."""
    await session.execute(
        select(func.pg_advisory_xact_lock(func.hashtextextended(str(scorecard_id), 0)))
    )


def add(session: AsyncSession, scorecard: Scorecard) -> None:
    session.add(scorecard)


async def get_visible(
    session: AsyncSession, principal: Principal, scorecard_id: uuid.UUID
) -> Scorecard | None:
    statement = select(Scorecard).where(
        Scorecard.id == scorecard_id, jurisdiction_filter(principal, Scorecard.location_code)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def list_visible(
    session: AsyncSession, principal: Principal, *, cycle_id: uuid.UUID | None,
    kind: str | None, status: str | None, location: str | None, page: PageParams,
):  # fmt: skip
    statement = select(Scorecard).where(jurisdiction_filter(principal, Scorecard.location_code))
    if cycle_id:
        statement = statement.where(Scorecard.cycle_id == cycle_id)
    if kind:
        statement = statement.where(Scorecard.kind == kind)
    if status:
        statement = statement.where(Scorecard.status == status)
    if location:
        statement = statement.where(subtree(location, Scorecard.location_code))
    return await paginate(session, statement, order_by=[Scorecard.id], page=page)


async def replace_sitting(
    session: AsyncSession,
    scorecard_id: uuid.UUID,
    *,
    participants: list[dict],
    indicators: list[dict],
    votes: list[dict],
) -> None:
    # Votes and indicators cascade from their participants and indicators.
    await session.execute(delete(Participant).where(Participant.scorecard_id == scorecard_id))
    await session.execute(
        delete(ScorecardIndicator).where(ScorecardIndicator.scorecard_id == scorecard_id)
    )
    if participants:
        await session.execute(insert(Participant), participants)
    if indicators:
        await session.execute(insert(ScorecardIndicator), indicators)
    if votes:
        await session.execute(insert(Vote), votes)


async def sitting(session: AsyncSession, scorecard_id: uuid.UUID):
    participants = (
        await session.execute(
            select(Participant).where(Participant.scorecard_id == scorecard_id)
            .execution_options(populate_existing=True)
            .order_by(Participant.id)
        )
    ).scalars().all()  # fmt: skip
    indicators = (
        await session.execute(
            select(ScorecardIndicator).where(ScorecardIndicator.scorecard_id == scorecard_id)
            .execution_options(populate_existing=True)
            .order_by(ScorecardIndicator.position)
        )
    ).scalars().all()  # fmt: skip
    votes = (
        await session.execute(
            select(Vote).where(Vote.scorecard_id == scorecard_id)
            .execution_options(populate_existing=True)
            .order_by(Vote.indicator_id, Vote.participant_id)
        )
    ).scalars().all()  # fmt: skip
    return list(participants), list(indicators), list(votes)


async def latest_completed(session: AsyncSession, facility_id: uuid.UUID, kind: str):
    statement = (
        select(Scorecard)
        .where(Scorecard.facility_id == facility_id, Scorecard.kind == kind,
               Scorecard.status == "completed")
        .order_by(Scorecard.year.desc(), Scorecard.completed_at.desc())
        .limit(1)
    )  # fmt: skip
    return (await session.execute(statement)).scalar_one_or_none()


async def indicators_of(session: AsyncSession, scorecard_id: uuid.UUID):
    statement = (
        select(ScorecardIndicator)
        .where(ScorecardIndicator.scorecard_id == scorecard_id)
        .order_by(ScorecardIndicator.position)
    )
    return list((await session.execute(statement)).scalars())


async def indicator(session: AsyncSession, scorecard_id: uuid.UUID, indicator_id: uuid.UUID):
    return await session.get(ScorecardIndicator, (scorecard_id, indicator_id))
