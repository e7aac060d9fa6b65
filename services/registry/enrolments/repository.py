"""Enrolment queries. A record's location is its household's village (joined, never copied,
so a household that moves takes its enrolments with it)."""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.enrolments.models import LIVE_STATUSES, Enrolment
from services.registry.households.models import Household, Member
from shared.http.pagination import PageParams, paginate
from shared.jurisdiction import jurisdiction_filter
from shared.principal import Principal
from shared.tiers import tier_for_code


class LiveEnrolmentExists(Exception):
    """The unique index refused a second live enrolment (a concurrent proposal won)."""


async def get_household(session: AsyncSession, household_id: uuid.UUID) -> Household | None:
    """Any household, for writes that check the jurisdiction themselves (403, not 404)."""
    return await session.get(Household, household_id)


async def get_visible_household(
    session: AsyncSession, principal: Principal, household_id: uuid.UUID
) -> Household | None:
    return (
        await session.execute(
            select(Household).where(
                Household.id == household_id,
                jurisdiction_filter(principal, Household.village_code),
            )
        )
    ).scalar_one_or_none()


async def members_of(session: AsyncSession, household_id: uuid.UUID) -> list[Member]:
    return list(
        (
            await session.execute(
                select(Member)
                .where(Member.household_id == household_id)
                .order_by(Member.birth_date, Member.id)
            )
        )
        .scalars()
        .all()
    )


async def get_visible_enrolment(
    session: AsyncSession, principal: Principal, enrolment_id: uuid.UUID
) -> tuple[Enrolment, Household] | None:
    row = (
        await session.execute(
            select(Enrolment, Household)
            .join(Household, Household.id == Enrolment.household_id)
            .where(
                Enrolment.id == enrolment_id,
                jurisdiction_filter(principal, Household.village_code),
            )
        )
    ).first()
    return (row[0], row[1]) if row else None


async def live_enrolment(
    session: AsyncSession,
    *,
    programme_code: str,
    household_id: uuid.UUID,
    member_id: uuid.UUID | None,
) -> Enrolment | None:
    member_match = (
        Enrolment.member_id.is_(None) if member_id is None else Enrolment.member_id == member_id
    )
    return (
        await session.execute(
            select(Enrolment).where(
                Enrolment.programme_code == programme_code,
                Enrolment.household_id == household_id,
                member_match,
                Enrolment.status.in_(LIVE_STATUSES),
            )
        )
    ).scalar_one_or_none()


async def live_enrolments_of(
    session: AsyncSession, household_id: uuid.UUID, *, member_id: uuid.UUID | None = None
) -> list[Enrolment]:
    """The household's live enrolments (only `member_id`'s, if given), locked for update."""
    query = select(Enrolment).where(
        Enrolment.household_id == household_id, Enrolment.status.in_(LIVE_STATUSES)
    )
    if member_id is not None:
        query = query.where(Enrolment.member_id == member_id)
    return list(
        (await session.execute(query.order_by(Enrolment.id).with_for_update())).scalars().all()
    )


async def insert(session: AsyncSession, enrolment: Enrolment) -> None:
    """Add and flush; a concurrent live duplicate surfaces as LiveEnrolmentExists."""
    try:
        async with session.begin_nested():
            session.add(enrolment)
            await session.flush()
    except IntegrityError as exc:
        if "ux_enrolment_live" in str(exc.orig):
            raise LiveEnrolmentExists from exc
        raise


async def household_enrolments(session: AsyncSession, household_id: uuid.UUID) -> list[Enrolment]:
    return list(
        (
            await session.execute(
                select(Enrolment)
                .where(Enrolment.household_id == household_id)
                .order_by(Enrolment.programme_code, Enrolment.created_at, Enrolment.id)
            )
        )
        .scalars()
        .all()
    )


def within_area(location_code: str, column) -> ColumnElement[bool]:
    """A subtree filter (`location` query parameter) through the same one prefix rule as
    jurisdiction: the records an officer of that area would see."""
    tier = tier_for_code(location_code)
    if tier is None:  # a village: exactly that one
        return column == location_code
    return jurisdiction_filter(
        Principal(sub=f"area:{location_code}", tier=tier, admin_code=location_code), column
    )


async def page_of_enrolments(
    session: AsyncSession,
    principal: Principal,
    *,
    programme_code: str | None,
    status: str | None,
    location_code: str | None,
    page: PageParams,
) -> tuple[list[Enrolment], str | None]:
    """Oldest first (cursor pages), within the principal's area and `location_code`."""
    statement = (
        select(Enrolment)
        .join(Household, Household.id == Enrolment.household_id)
        .where(jurisdiction_filter(principal, Household.village_code))
    )
    if programme_code is not None:
        statement = statement.where(Enrolment.programme_code == programme_code)
    if status is not None:
        statement = statement.where(Enrolment.status == status)
    if location_code is not None:
        statement = statement.where(within_area(location_code, Household.village_code))
    return await paginate(
        session, statement, order_by=[Enrolment.created_at, Enrolment.id], page=page
    )


async def households_by_id(
    session: AsyncSession, household_ids: set[uuid.UUID]
) -> dict[uuid.UUID, Household]:
    if not household_ids:
        return {}
    rows = (
        (await session.execute(select(Household).where(Household.id.in_(household_ids))))
        .scalars()
        .all()
    )
    return {h.id: h for h in rows}
