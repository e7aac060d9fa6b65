"""Consumers of the budget service's events.

- `budget-disclosure`: published allocations, releases and expenditures, kept per unit and
  fiscal year for the budget section of the public I4C view. Each fact is keyed by the
  budget service's id (run and unit, release, expenditure), so it counts once however often
  it arrives.
- `support-requests`: the decision on and fulfilment of a support request raised from a JAAP
  action (`isaf_action_id`), onto that action.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.isaf.budget import repository
from services.isaf.budget.models import AllocatedAmount, ReleasedAmount, SpentAmount
from services.isaf.jaaps import service as jaaps
from shared.consumer import ConsumerContext, EventConsumer
from shared.events.catalog.budget import (
    AllocationPublished,
    ExpenditureRecorded,
    ReleaseRecorded,
    SupportRequestDecided,
    SupportRequestFulfilled,
)
from shared.events.envelope import CloudEvent

budget_disclosure = EventConsumer("isaf", "budget-disclosure")
support_requests = EventConsumer("isaf", "support-requests")


@budget_disclosure.on(AllocationPublished)
async def allocation_published(
    session: AsyncSession, event: AllocationPublished, envelope: CloudEvent
) -> None:
    await repository.keep(
        session,
        AllocatedAmount,
        [
            {"run_id": event.run_id, "admin_code": unit.admin_code,
             "fiscal_year": event.fiscal_year, "line_code": event.line_code,
             "amount_riel": unit.amount_riel}
            for unit in event.units
        ],
    )  # fmt: skip


@budget_disclosure.on(ReleaseRecorded)
async def release_recorded(
    session: AsyncSession, event: ReleaseRecorded, envelope: CloudEvent
) -> None:
    await repository.keep(
        session,
        ReleasedAmount,
        [{"release_id": event.release_id, "admin_code": event.admin_code,
          "fiscal_year": event.fiscal_year, "line_code": event.line_code,
          "amount_riel": event.amount_riel, "released_on": event.released_on}],
    )  # fmt: skip


@budget_disclosure.on(ExpenditureRecorded)
async def expenditure_recorded(
    session: AsyncSession, event: ExpenditureRecorded, envelope: CloudEvent
) -> None:
    await repository.keep(
        session,
        SpentAmount,
        [{"expenditure_id": event.expenditure_id, "admin_code": event.admin_code,
          "fiscal_year": event.fiscal_year, "line_code": event.line_code,
          "amount_riel": event.amount_riel, "spent_on": event.spent_on}],
    )  # fmt: skip


@support_requests.on(SupportRequestDecided)
async def support_request_decided(
    session: AsyncSession, event: SupportRequestDecided, envelope: CloudEvent,
    context: ConsumerContext,
) -> None:  # fmt: skip
    if event.isaf_action_id is None:
        return
    note = (
        f"Support request {event.decision} by {event.addressed_tier} {event.addressed_admin_code}"
    )
    note += f": {event.approved_amount_riel} of {event.requested_amount_riel} riel."
    if event.reason:
        note += f" {event.reason}"
    await jaaps.support_answered(
        session, action_id=event.isaf_action_id, support_request_id=event.support_request_id,
        status=event.decision, approved_riel=event.approved_amount_riel, note=note,
        now=context.clock.now(),
    )  # fmt: skip


@support_requests.on(SupportRequestFulfilled)
async def support_request_fulfilled(
    session: AsyncSession, event: SupportRequestFulfilled, envelope: CloudEvent,
    context: ConsumerContext,
) -> None:  # fmt: skip
    if event.isaf_action_id is None:
        return
    await jaaps.support_answered(
        session, action_id=event.isaf_action_id, support_request_id=event.support_request_id,
        status="fulfilled", approved_riel=event.approved_amount_riel,
        note=f"Support fulfilled: {event.approved_amount_riel} riel.", now=context.clock.now(),
    )  # fmt: skip
