"""Queries for change requests and the records they refer to."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.change_requests.models import ChangeRequest
from services.registry.enrolments.models import Enrolment
from services.registry.households.models import Household, Member
from services.registry.programmes.models import Programme
from shared.http.pagination import PageParams, paginate
from shared.jurisdiction import jurisdiction_filter
from shared.principal import Principal
from shared.tiers import Tier, tier_for_code


@dataclass(frozen=True)
class ChangeRequestFilters:
    status: list[str] | None = None
    change_type: str | None = None
    household_id: uuid.UUID | None = None
    location_code: str | None = None  # a unit or village inside the caller's area
    awaiting_me: bool = False


def _visible(principal: Principal) -> ColumnElement[bool]:
    """A request is seen where the household lives and, for a move, where it is going."""
    return or_(
        jurisdiction_filter(principal, ChangeRequest.village_code),
        jurisdiction_filter(principal, ChangeRequest.destination_village_code),
    )


async def get(session: AsyncSession, change_request_id: uuid.UUID) -> ChangeRequest | None:
    """Unfiltered, for actions (which check jurisdiction and answer 403)."""
    return await session.get(ChangeRequest, change_request_id)


async def get_visible(
    session: AsyncSession, principal: Principal, change_request_id: uuid.UUID
) -> ChangeRequest | None:
    return (
        await session.execute(
            select(ChangeRequest).where(ChangeRequest.id == change_request_id, _visible(principal))
        )
    ).scalar_one_or_none()


async def household(session: AsyncSession, household_id: uuid.UUID) -> Household | None:
    return await session.get(Household, household_id)


async def member(session: AsyncSession, member_id: uuid.UUID) -> Member | None:
    return await session.get(Member, member_id)


async def enrolment(session: AsyncSession, enrolment_id: uuid.UUID) -> Enrolment | None:
    return await session.get(Enrolment, enrolment_id)


async def programme(session: AsyncSession, code: str) -> Programme | None:
    return (
        await session.execute(select(Programme).where(Programme.code == code))
    ).scalar_one_or_none()


def _within(location_code: str, column) -> ColumnElement[bool]:
    """A subtree filter through the same one prefix rule as jurisdiction: what an officer of
    that unit would see (a village code matches exactly that village)."""
    tier = tier_for_code(location_code)
    if tier is None:
        return column == location_code
    area = Principal(sub=f"area:{location_code}", tier=tier, admin_code=location_code)
    return jurisdiction_filter(area, column)


def _awaiting(principal: Principal) -> ColumnElement[bool]:
    """What the caller's unit must do next: a commune submits its drafts and accepts moves
    into it; a district verifies what awaits it; a province or the national level may
    verify whatever awaits a district of its area."""
    actions = ["submit", "accept_move"] if principal.tier is Tier.CS else ["verify"]
    return ChangeRequest.awaiting_action.in_(actions) & jurisdiction_filter(
        principal, ChangeRequest.awaiting_unit
    )


async def list_change_requests(
    session: AsyncSession,
    principal: Principal,
    filters: ChangeRequestFilters,
    page: PageParams,
) -> tuple[list[ChangeRequest], str | None]:
    statement = select(ChangeRequest).where(_visible(principal))
    if filters.status:
        statement = statement.where(ChangeRequest.status.in_(filters.status))
    if filters.change_type is not None:
        statement = statement.where(ChangeRequest.change_type == filters.change_type)
    if filters.household_id is not None:
        statement = statement.where(ChangeRequest.household_id == filters.household_id)
    if filters.location_code is not None:
        statement = statement.where(
            or_(
                _within(filters.location_code, ChangeRequest.village_code),
                _within(filters.location_code, ChangeRequest.destination_village_code),
            )
        )
    if filters.awaiting_me:
        statement = statement.where(_awaiting(principal))
    # Oldest first: requests are worked in the order they came in.
    return await paginate(
        session, statement, order_by=[ChangeRequest.created_at, ChangeRequest.id], page=page
    )
