"""Queries on support requests, limited to the caller's area (a request is located at the
requesting unit, which the addressed parent or grandparent covers)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.budget.support.models import SupportRequest
from shared.http.pagination import PageParams, paginate
from shared.jurisdiction import jurisdiction_filter
from shared.principal import Principal


async def get_visible(
    session: AsyncSession, principal: Principal, request_id: uuid.UUID, *, for_update: bool = False
) -> SupportRequest | None:
    statement = select(SupportRequest).where(
        SupportRequest.id == request_id,
        jurisdiction_filter(principal, SupportRequest.requesting_admin_code),
    )
    if for_update:
        statement = statement.with_for_update()
    return (await session.execute(statement)).scalar_one_or_none()


async def by_isaf_action(session: AsyncSession, action_id: uuid.UUID) -> SupportRequest | None:
    statement = select(SupportRequest).where(SupportRequest.isaf_action_id == action_id)
    return (await session.execute(statement)).scalar_one_or_none()


async def list_visible(
    session: AsyncSession,
    principal: Principal,
    *,
    status: str | None = None,
    addressed_to_me: bool = False,
    fiscal_year: int | None = None,
    area: str | None = None,
    page: PageParams,
) -> tuple[list[SupportRequest], str | None]:
    statement = select(SupportRequest).where(
        jurisdiction_filter(principal, SupportRequest.requesting_admin_code)
    )
    if status is not None:
        statement = statement.where(SupportRequest.status == status)
    if addressed_to_me:
        statement = statement.where(
            SupportRequest.addressed_tier == (principal.tier.value if principal.tier else ""),
            SupportRequest.addressed_admin_code == principal.admin_code,
        )
    if fiscal_year is not None:
        statement = statement.where(SupportRequest.fiscal_year == fiscal_year)
    if area:
        statement = statement.where(SupportRequest.requesting_admin_code.startswith(area))
    return await paginate(
        session, statement, order_by=[SupportRequest.submitted_at, SupportRequest.id], page=page
    )
