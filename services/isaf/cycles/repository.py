"""Queries on facilities and cycles; reads are limited to the caller's area here."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.isaf.areas import subtree
from services.isaf.cycles.models import Cycle, Facility, StageChange
from shared.http.pagination import PageParams, paginate
from shared.jurisdiction import jurisdiction_filter
from shared.principal import Principal


async def get_facility(session: AsyncSession, facility_id: uuid.UUID) -> Facility | None:
    """Unfiltered, for writes and for the service's own checks."""
    return await session.get(Facility, facility_id)


async def get_visible_facility(
    session: AsyncSession, principal: Principal, facility_id: uuid.UUID
) -> Facility | None:
    statement = select(Facility).where(
        Facility.id == facility_id, jurisdiction_filter(principal, Facility.location_code)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def list_facilities(
    session: AsyncSession,
    principal: Principal,
    *,
    location: str | None,
    facility_type: str | None,
    page: PageParams,
):
    statement = select(Facility).where(jurisdiction_filter(principal, Facility.location_code))
    if location:
        statement = statement.where(subtree(location, Facility.location_code))
    if facility_type:
        statement = statement.where(Facility.facility_type == facility_type)
    return await paginate(session, statement, order_by=[Facility.id], page=page)


async def facilities_at(session: AsyncSession, location_code: str) -> list[Facility]:
    """The facilities of one cycle area (public view), unfiltered."""
    statement = (
        select(Facility)
        .where(Facility.location_code == location_code)
        .order_by(Facility.facility_type, Facility.name_en)
    )
    return list((await session.execute(statement)).scalars())


async def get_cycle(session: AsyncSession, cycle_id: uuid.UUID) -> Cycle | None:
    return await session.get(Cycle, cycle_id)


async def get_visible_cycle(
    session: AsyncSession, principal: Principal, cycle_id: uuid.UUID
) -> Cycle | None:
    statement = select(Cycle).where(
        Cycle.id == cycle_id, jurisdiction_filter(principal, Cycle.location_code)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def find_cycle(session: AsyncSession, location_code: str, year: int) -> Cycle | None:
    statement = select(Cycle).where(Cycle.location_code == location_code, Cycle.year == year)
    return (await session.execute(statement)).scalar_one_or_none()


async def list_cycles(
    session: AsyncSession,
    principal: Principal,
    *,
    location: str | None,
    year: int | None,
    page: PageParams,
):
    statement = select(Cycle).where(jurisdiction_filter(principal, Cycle.location_code))
    if location:
        statement = statement.where(subtree(location, Cycle.location_code))
    if year:
        statement = statement.where(Cycle.year == year)
    return await paginate(session, statement, order_by=[Cycle.id], page=page)


async def stage_history(session: AsyncSession, cycle_id: uuid.UUID) -> list[StageChange]:
    statement = (
        select(StageChange).where(StageChange.cycle_id == cycle_id).order_by(StageChange.seq)
    )
    return list((await session.execute(statement)).scalars())
