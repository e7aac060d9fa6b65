"""The verification query's SQL: two statements, each served by indexes.

1. The household(s): by code (unique index), by national ID (partial index on member), or by
   a member's normalised names + birth date (composite indexes on the generated full names).
2. Their enrolments with, per enrolment, the latest benefit and the latest paid one: two
   LATERAL probes of (enrolment_id, period_start DESC) indexes, so the cost does not grow
   with the number of benefits recorded.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.benefits.models import BenefitRecord
from services.registry.enrolments.models import Enrolment, EnrolmentStatus
from services.registry.households.models import Household, Member, MemberStatus
from services.registry.programmes.models import Programme
from services.registry.verification.schemas import VerificationQuery
from shared.jurisdiction import jurisdiction_filter
from shared.principal import Principal

MAX_MATCHES = 20


async def find(
    session: AsyncSession, query: VerificationQuery, area: ColumnElement[bool] | None
) -> list[tuple[Household, Member | None]]:
    """Matching households (with the member named), at most MAX_MATCHES. `area` limits them
    to a jurisdiction (None: nationwide, for clients with the verification scope)."""
    if query.by == "household_code":
        statement = select(Household).where(Household.code == query.household_code)
        if area is not None:
            statement = statement.where(area)
        household = (await session.execute(statement)).scalar_one_or_none()
        return [(household, None)] if household else []
    if query.by == "national_id":
        condition = Member.national_id == query.national_id
    elif query.by == "latin_name":
        condition = (Member.full_name_latin == query.full_name) & (
            Member.birth_date == query.birth_date
        )
    else:
        condition = (Member.full_name_km == query.full_name) & (
            Member.birth_date == query.birth_date
        )
    statement = (
        select(Household, Member)
        .join(Member, Member.household_id == Household.id)
        .where(condition, Member.status != MemberStatus.REMOVED)
        .order_by(Household.code, Member.id)
        .limit(MAX_MATCHES)
    )
    if area is not None:
        statement = statement.where(area)
    return [(row[0], row[1]) for row in (await session.execute(statement)).all()]


def area_of(principal: Principal) -> ColumnElement[bool]:
    return jurisdiction_filter(principal, Household.village_code)


def _benefit_probe(paid_only: bool):
    probe = select(
        BenefitRecord.period,
        BenefitRecord.delivered_on,
        BenefitRecord.amount_khr,
        BenefitRecord.in_kind_item,
        BenefitRecord.channel,
        BenefitRecord.status,
    ).where(BenefitRecord.enrolment_id == Enrolment.id)
    if paid_only:
        probe = probe.where(BenefitRecord.status == "paid")
    return probe.order_by(BenefitRecord.period_start.desc()).limit(1).lateral()


async def programme_states(
    session: AsyncSession, household_ids: list[uuid.UUID]
) -> list[dict[str, Any]]:
    """Every enrolment (rejected proposals aside) of these households, with its programme's
    names and target, its latest benefit (`last_*`) and its latest paid one (`paid_*`)."""
    if not household_ids:
        return []
    last = _benefit_probe(paid_only=False)
    paid = _benefit_probe(paid_only=True)
    statement = (
        select(
            Enrolment.id.label("enrolment_id"),
            Enrolment.household_id,
            Enrolment.member_id,
            Enrolment.programme_code,
            Enrolment.status,
            Enrolment.enrolled_on,
            Enrolment.exited_on,
            Programme.name_en,
            Programme.name_km,
            Programme.target,
            *[c.label(f"last_{c.name}") for c in last.c],
            *[c.label(f"paid_{c.name}") for c in paid.c],
        )
        .join(Programme, Programme.code == Enrolment.programme_code)
        .outerjoin(last, true())
        .outerjoin(paid, true())
        .where(
            Enrolment.household_id.in_(household_ids),
            Enrolment.status != EnrolmentStatus.REJECTED,
        )
        .order_by(Enrolment.programme_code, Enrolment.created_at)
    )
    return [dict(row) for row in (await session.execute(statement)).mappings().all()]
