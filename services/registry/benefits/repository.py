"""Benefit record queries; a benefit's location is its enrolment's household's village."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.benefits.models import BenefitRecord
from services.registry.enrolments.models import Enrolment
from services.registry.households.models import Household
from shared.http.pagination import PageParams, paginate
from shared.jurisdiction import jurisdiction_filter
from shared.principal import Principal


class PeriodTaken(Exception):
    """The (enrolment, period) unique constraint refused a second record."""


async def get_visible_benefit(
    session: AsyncSession, principal: Principal, benefit_id: uuid.UUID
) -> tuple[BenefitRecord, Enrolment, Household] | None:
    row = (
        await session.execute(
            select(BenefitRecord, Enrolment, Household)
            .join(Enrolment, Enrolment.id == BenefitRecord.enrolment_id)
            .join(Household, Household.id == Enrolment.household_id)
            .where(
                BenefitRecord.id == benefit_id,
                jurisdiction_filter(principal, Household.village_code),
            )
        )
    ).first()
    return (row[0], row[1], row[2]) if row else None


async def for_period(
    session: AsyncSession, enrolment_id: uuid.UUID, period: str
) -> BenefitRecord | None:
    return (
        await session.execute(
            select(BenefitRecord).where(
                BenefitRecord.enrolment_id == enrolment_id, BenefitRecord.period == period
            )
        )
    ).scalar_one_or_none()


async def count_for_enrolment(session: AsyncSession, enrolment_id: uuid.UUID) -> int:
    return (
        await session.execute(
            select(func.count())
            .select_from(BenefitRecord)
            .where(BenefitRecord.enrolment_id == enrolment_id)
        )
    ).scalar_one()


async def insert(session: AsyncSession, record: BenefitRecord) -> None:
    try:
        async with session.begin_nested():
            session.add(record)
            await session.flush()
    except IntegrityError as exc:
        if "enrolment_period" in str(exc.orig):
            raise PeriodTaken from exc
        raise


async def page_for_enrolment(
    session: AsyncSession, enrolment_id: uuid.UUID, page: PageParams
) -> tuple[list[BenefitRecord], str | None]:
    """Oldest period first."""
    return await paginate(
        session,
        select(BenefitRecord).where(BenefitRecord.enrolment_id == enrolment_id),
        order_by=[BenefitRecord.period_start, BenefitRecord.id],
        page=page,
    )
