"""Benefit rules: what may be recorded for an enrolment, and how a payment's status moves.

A benefit is recorded only for an `enrolled` enrolment, for a period of the programme's kind
(one per period; a one-off programme pays once), as an amount in riel or as the in-kind item
the programme gives. Status: scheduled -> paid or failed; failed -> paid (paid on retry);
paid -> returned (the money came back). Registry officers and verifiers of the household's
area record and update them.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.audit import record_change
from services.registry.benefits import repository
from services.registry.benefits.models import BenefitChannel, BenefitRecord, BenefitStatus
from services.registry.benefits.periods import period_start
from services.registry.benefits.schemas import BenefitCreate, BenefitStatusChange
from services.registry.enrolments import repository as enrolments
from services.registry.enrolments.models import Enrolment, EnrolmentStatus
from services.registry.households.models import Household
from services.registry.programmes import service as programmes
from shared import clock
from shared.events.catalog.registry import BenefitRecorded, BenefitStatusChanged
from shared.http.pagination import PageParams
from shared.outbox import emit
from shared.principal import Principal
from shared.problems import INVALID_TRANSITION, PERIOD_TAKEN, STALE_VERSION, Problem

# status -> the statuses it may change to
STATUS_CHANGES: dict[str, tuple[str, ...]] = {
    BenefitStatus.SCHEDULED: (BenefitStatus.PAID, BenefitStatus.FAILED),
    BenefitStatus.FAILED: (BenefitStatus.PAID,),
    BenefitStatus.PAID: (BenefitStatus.RETURNED,),
    BenefitStatus.RETURNED: (),
}


async def _visible_enrolment(
    session: AsyncSession, principal: Principal, enrolment_id: uuid.UUID
) -> tuple[Enrolment, Household]:
    found = await enrolments.get_visible_enrolment(session, principal, enrolment_id)
    if found is None:
        raise Problem.not_found("The enrolment")
    return found


def _event_fields(
    record: BenefitRecord, enrolment: Enrolment, household: Household
) -> dict[str, Any]:
    return {
        "benefit_id": record.id,
        "enrolment_id": enrolment.id,
        "programme_code": enrolment.programme_code,
        "household_id": enrolment.household_id,
        "member_id": enrolment.member_id,
        "village_code": household.village_code,
        "period": record.period,
        "amount_khr": record.amount_khr,
        "in_kind_item": record.in_kind_item,
        "channel": record.channel,
        "status": record.status,
        "delivered_on": record.delivered_on,
    }


def _check_delivery(status: str, delivered_on, field: str = "delivered_on") -> None:
    if status in (BenefitStatus.PAID, BenefitStatus.RETURNED) and delivered_on is None:
        raise Problem.invalid(field, f"a {status} benefit needs the date it was delivered")
    if delivered_on is not None and delivered_on > clock.today():
        raise Problem.invalid(field, "a delivery date cannot be in the future")


async def record_benefit(
    session: AsyncSession, *, principal: Principal, enrolment_id: uuid.UUID, data: BenefitCreate
) -> tuple[BenefitRecord, Enrolment, Household]:
    enrolment, household = await _visible_enrolment(session, principal, enrolment_id)
    if enrolment.status != EnrolmentStatus.ENROLLED:
        raise Problem.conflict(
            f"Benefits are recorded only for enrolled enrolments; this one is {enrolment.status}."
        )
    programme = await programmes.get_programme(session, code=enrolment.programme_code)
    try:
        start = period_start(data.period, programme.benefit_period)
    except ValueError as exc:
        raise Problem.invalid("period", str(exc)) from exc
    if programme.benefit_in_kind_item is not None:
        if data.in_kind_item is None:
            raise Problem.invalid(
                "in_kind_item",
                f"{programme.code} gives {programme.benefit_in_kind_item!r} in kind, not cash",
            )
        if data.channel != BenefitChannel.IN_KIND:
            raise Problem.invalid("channel", "an in-kind benefit is delivered in_kind")
    else:
        if data.amount_khr is None:
            raise Problem.invalid("amount_khr", f"{programme.code} pays an amount in riel")
        if data.channel == BenefitChannel.IN_KIND:
            raise Problem.invalid("channel", "a cash benefit needs a cash channel")
    _check_delivery(data.status, data.delivered_on)
    taken = await repository.for_period(session, enrolment.id, data.period)
    if taken is not None:
        raise _period_taken(data.period, taken.id)
    if programme.benefit_period == "one_off" and await repository.count_for_enrolment(
        session, enrolment.id
    ):
        raise Problem.conflict(f"{programme.code} is paid once; a benefit is already recorded.")

    record = BenefitRecord(
        enrolment_id=enrolment.id,
        period=data.period,
        period_start=start,
        amount_khr=data.amount_khr,
        in_kind_item=data.in_kind_item,
        channel=data.channel,
        delivered_on=data.delivered_on,
        status=data.status,
        created_by=principal.sub,
        updated_by=principal.sub,
    )
    try:
        await repository.insert(session, record)
    except repository.PeriodTaken:
        raise _period_taken(data.period, None) from None
    record_change(
        session,
        principal=principal,
        entity="benefit",
        entity_id=record.id,
        action="recorded",
        changes={
            "enrolment_id": str(enrolment.id),
            "period": record.period,
            "amount_khr": record.amount_khr,
            "in_kind_item": record.in_kind_item,
            "channel": record.channel,
            "status": record.status,
            "delivered_on": record.delivered_on.isoformat() if record.delivered_on else None,
        },
        household_id=household.id,
        village_code=household.village_code,
    )
    await emit(
        session,
        BenefitRecorded(**_event_fields(record, enrolment, household)),
        subject=record.id,
        jurisdiction=household.village_code,
    )
    return record, enrolment, household


def _period_taken(period: str, existing: uuid.UUID | None) -> Problem:
    problem = Problem.conflict(
        f"A benefit for {period} is already recorded for this enrolment.", slug=PERIOD_TAKEN
    )
    if existing is not None:
        problem.extra["existing_benefit_id"] = str(existing)
    return problem


async def get_benefit(
    session: AsyncSession, *, principal: Principal, benefit_id: uuid.UUID
) -> tuple[BenefitRecord, Enrolment, Household]:
    found = await repository.get_visible_benefit(session, principal, benefit_id)
    if found is None:
        raise Problem.not_found("The benefit")
    return found


async def change_benefit_status(
    session: AsyncSession,
    *,
    principal: Principal,
    benefit_id: uuid.UUID,
    change: BenefitStatusChange,
    expected_version: int | None = None,
) -> tuple[BenefitRecord, Enrolment, Household]:
    record, enrolment, household = await get_benefit(
        session, principal=principal, benefit_id=benefit_id
    )
    if expected_version is not None and record.version != expected_version:
        raise Problem(412, "The benefit was changed meanwhile.", slug=STALE_VERSION)
    previous = record.status
    if change.status not in STATUS_CHANGES[previous]:
        allowed = " or ".join(STATUS_CHANGES[previous]) or "nothing (final)"
        raise Problem.conflict(
            f"A {previous} benefit cannot become {change.status} (only {allowed}).",
            slug=INVALID_TRANSITION,
        )
    delivered_on = change.delivered_on or record.delivered_on
    _check_delivery(change.status, delivered_on)
    record.status = change.status
    record.delivered_on = delivered_on
    record.status_reason = change.reason
    record.updated_at = clock.now()
    record.updated_by = principal.sub
    await session.flush()
    record_change(
        session,
        principal=principal,
        entity="benefit",
        entity_id=record.id,
        action=f"status_{change.status}",
        changes={
            "status": {"from": previous, "to": record.status},
            **({"reason": change.reason} if change.reason else {}),
            **(
                {"delivered_on": delivered_on.isoformat()}
                if change.delivered_on is not None
                else {}
            ),
        },
        household_id=household.id,
        village_code=household.village_code,
    )
    await emit(
        session,
        BenefitStatusChanged(
            **_event_fields(record, enrolment, household), previous_status=previous
        ),
        subject=record.id,
        jurisdiction=household.village_code,
    )
    return record, enrolment, household


async def list_benefits(
    session: AsyncSession, *, principal: Principal, enrolment_id: uuid.UUID, page: PageParams
) -> tuple[Enrolment, list[BenefitRecord], str | None]:
    enrolment, _ = await _visible_enrolment(session, principal, enrolment_id)
    rows, next_cursor = await repository.page_for_enrolment(session, enrolment.id, page)
    return enrolment, rows, next_cursor
