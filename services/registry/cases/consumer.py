"""Grievance outcomes -> reassessment cases (cross-service flow 2 of the architecture).

When the grievance service resolves an exclusion-error or data-correction grievance about a
household in the complainant's favour, the household must be reassessed: this consumer opens
a reassessment case on it, assigned to the household's commune and due in
REGISTRY_REASSESSMENT_DUE_DAYS days (the app's settings, given through the handler's
context), with the public resolution as its first note.

Idempotent twice over: the consumer runner's inbox drops a redelivered event, and the case's
origin (`grievance:<id>`) is unique per case type, so even a second, distinct event about the
same grievance opens nothing new. An unknown household is logged and skipped: retrying could
never make it known, and a poison loop would hold up every later grievance.
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.cases import service
from shared.consumer import ConsumerContext, EventConsumer
from shared.events.catalog.grievance import GrievanceResolved
from shared.events.envelope import CloudEvent
from shared.principal import Principal

log = logging.getLogger(__name__)

grievance_outcomes = EventConsumer("registry", "grievance-outcomes")

# Who the history says opened the case: the grievance service's decision, not a person here.
GRIEVANCE_SERVICE = Principal(sub="service:grievance", name="Grievance service", client=True)

REASSESSMENT_CATEGORIES = frozenset({"exclusion_error", "data_correction"})
FAVOURABLE_DECISIONS = frozenset({"upheld", "partly_upheld"})


def needs_reassessment(event: GrievanceResolved) -> bool:
    """The grievance service's flag, or the rule behind it (for a producer that omits it)."""
    if event.household_id is None:
        return False
    return event.reassessment_requested or (
        event.decision in FAVOURABLE_DECISIONS and event.category in REASSESSMENT_CATEGORIES
    )


@grievance_outcomes.on(GrievanceResolved)
async def open_reassessment_case(
    session: AsyncSession,
    event: GrievanceResolved,
    envelope: CloudEvent,
    context: ConsumerContext,
) -> None:
    if not needs_reassessment(event):
        return
    assert event.household_id is not None
    case = await service.open_reassessment_for_grievance(
        session,
        principal=GRIEVANCE_SERVICE,
        grievance_id=event.grievance_id,
        household_id=event.household_id,
        member_id=event.member_id,
        resolution_summary=event.resolution_summary,
        due_in_days=context.settings.reassessment_due_days,
    )
    if case is not None:
        log.info(
            "grievance %s (event %s) opened reassessment case %s for household %s",
            event.grievance_id,
            envelope.id,
            case.id,
            event.household_id,
        )
