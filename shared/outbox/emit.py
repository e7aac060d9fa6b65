"""Writing an event into the outbox, inside the caller's transaction."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared import clock
from shared.context import traceparent_var
from shared.db.platform_tables import OUTBOX_CHANNEL
from shared.events.model import DomainEvent

# One round trip: the row, and a NOTIFY that PostgreSQL delivers only if the transaction
# commits (and folds into one per transaction), so the relay wakes for committed rows only.
_INSERT = text(
    f"""
    WITH row AS (
        INSERT INTO outbox (id, aggregate_type, aggregate_id, type, topic, dataschema,
                            payload, occurred_at, jurisdiction, traceparent)
        VALUES (:id, :aggregate_type, :aggregate_id, :type, :topic, :dataschema,
                CAST(:payload AS jsonb), :occurred_at, :jurisdiction, :traceparent)
        RETURNING seq
    )
    SELECT pg_notify('{OUTBOX_CHANNEL}', '') FROM row
    """
)


async def emit(
    session: AsyncSession,
    event: DomainEvent,
    *,
    subject: str | UUID,
    jurisdiction: str | None,
    occurred_at: datetime | None = None,
) -> UUID:
    """Record `event` about aggregate `subject` located at `jurisdiction` (an admin code).

    Nothing is published unless the caller's transaction commits. Returns the event id, which
    is the CloudEvents `id` consumers deduplicate on.
    """
    event_id = uuid.uuid4()
    await session.execute(
        _INSERT,
        {
            "id": event_id,
            "aggregate_type": event.aggregate,
            "aggregate_id": str(subject),
            "type": event.event_type(),
            "topic": event.topic(),
            "dataschema": event.dataschema(),
            "payload": json.dumps(event.model_dump(mode="json")),
            "occurred_at": occurred_at or clock.now(),
            "jurisdiction": jurisdiction,
            "traceparent": traceparent_var.get(),
        },
    )
    return event_id
