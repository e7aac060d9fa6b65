"""Queries for cases and their notes (the only place cases meet SQL)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.cases.models import Case, CaseNote, CaseStatus
from services.registry.households.models import Household, Member
from shared.http.pagination import PageParams, paginate
from shared.jurisdiction import jurisdiction_filter
from shared.principal import Principal


@dataclass(frozen=True)
class CaseFilters:
    assigned_admin_code: str | None = None
    assignee_sub: str | None = None
    status: list[str] | None = None
    case_type: str | None = None
    household_id: uuid.UUID | None = None
    due_before: date | None = None
    overdue_on: date | None = None  # open or in progress and due before this date


async def get_household(session: AsyncSession, household_id: uuid.UUID) -> Household | None:
    """Unfiltered: writes check jurisdiction themselves, to answer 403 rather than 404."""
    return await session.get(Household, household_id)


async def get_member(session: AsyncSession, member_id: uuid.UUID) -> Member | None:
    return await session.get(Member, member_id)


async def get_case(session: AsyncSession, case_id: uuid.UUID) -> Case | None:
    """Unfiltered, for writes (which check jurisdiction and answer 403)."""
    return await session.get(Case, case_id)


async def get_visible_case(
    session: AsyncSession, principal: Principal, case_id: uuid.UUID
) -> Case | None:
    return (
        await session.execute(
            select(Case).where(
                Case.id == case_id, jurisdiction_filter(principal, Case.village_code)
            )
        )
    ).scalar_one_or_none()


async def find_by_origin(session: AsyncSession, *, case_type: str, origin: str) -> Case | None:
    return (
        await session.execute(
            select(Case).where(Case.case_type == case_type, Case.origin == origin)
        )
    ).scalar_one_or_none()


async def notes_of(session: AsyncSession, case_id: uuid.UUID) -> list[CaseNote]:
    result = await session.execute(
        select(CaseNote).where(CaseNote.case_id == case_id).order_by(CaseNote.id)
    )
    return list(result.scalars().all())


async def list_cases(
    session: AsyncSession, principal: Principal, filters: CaseFilters, page: PageParams
) -> tuple[list[Case], str | None]:
    statement = select(Case).where(jurisdiction_filter(principal, Case.village_code))
    if filters.assigned_admin_code is not None:
        statement = statement.where(Case.assigned_admin_code == filters.assigned_admin_code)
    if filters.assignee_sub is not None:
        statement = statement.where(Case.assignee_sub == filters.assignee_sub)
    if filters.status:
        statement = statement.where(Case.status.in_(filters.status))
    if filters.case_type is not None:
        statement = statement.where(Case.case_type == filters.case_type)
    if filters.household_id is not None:
        statement = statement.where(Case.household_id == filters.household_id)
    if filters.due_before is not None:
        statement = statement.where(Case.due_on < filters.due_before)
    if filters.overdue_on is not None:
        statement = statement.where(
            Case.status != CaseStatus.CLOSED, Case.due_on < filters.overdue_on
        )
    # Most urgent first: the order a worklist is worked in.
    return await paginate(
        session, statement, order_by=[Case.due_on, Case.opened_at, Case.id], page=page
    )
