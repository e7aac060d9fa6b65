"""Writing events into the outbox, inside the caller's transaction: one (`emit`) or many in
one statement (`emit_many`, for bulk work such as an import's batch of households)."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import NamedTuple
from uuid import UUID

import asyncpg
from asyncpg.pgproto.pgproto import UUID as _FastUUID
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared import clock
from shared.context import event_lineage, traceparent_var
from shared.db.platform_tables import OUTBOX_CHANNEL
from shared.events.model import DomainEvent

# One round trip: the row, and a NOTIFY that PostgreSQL delivers only if the transaction
# commits (and folds into one per transaction), so the relay wakes for committed rows only.
_INSERT = text(
    f"""
    WITH row AS (
        INSERT INTO outbox (id, aggregate_type, aggregate_id, type, topic, dataschema,
                            payload, occurred_at, jurisdiction, traceparent, causationid,
                            correlationid)
        VALUES (:id, :aggregate_type, :aggregate_id, :type, :topic, :dataschema,
                CAST(:payload AS jsonb), :occurred_at, :jurisdiction, :traceparent,
                :causationid, :correlationid)
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
    is the CloudEvents `id` consumers deduplicate on. Its trace and lineage (`causationid`,
    `correlationid`) come from the context: the request, or the consumed event, being handled.
    """
    event_id = uuid.uuid4()
    causationid, correlationid = event_lineage()
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
            "causationid": causationid,
            "correlationid": correlationid,
        },
    )
    return event_id


_COPY_COLUMNS = (
    "id",
    "aggregate_type",
    "aggregate_id",
    "type",
    "topic",
    "dataschema",
    "payload",
    "occurred_at",
    "jurisdiction",
    "traceparent",
    "causationid",
    "correlationid",
)


async def _copy_many(connection: asyncpg.Connection, events, occurred_at: datetime) -> int:
    """Bulk work's path: the rows through binary COPY (in the order given, so their seq
    increases in that order), then one NOTIFY, both in the connection's transaction. PostgreSQL
    parses each payload once, where the one-statement path parses a document of them all and
    then each element again."""
    kinds: dict[type, tuple[str, str, str, str]] = {}
    traceparent = traceparent_var.get()
    causationid, correlationid = event_lineage()
    records = []
    ids = _random_ids()
    for event, subject, jurisdiction in events:
        envelope = kinds.get(type(event))
        if envelope is None:
            envelope = kinds[type(event)] = (
                event.aggregate,
                event.event_type(),
                event.topic(),
                event.dataschema(),
            )
        records.append(
            (
                next(ids),
                envelope[0],
                str(subject),
                envelope[1],
                envelope[2],
                envelope[3],
                event.model_dump_json(),
                occurred_at,
                jurisdiction,
                traceparent,
                causationid,
                correlationid,
            )
        )
    if not records:
        return 0
    await connection.copy_records_to_table("outbox", records=records, columns=_COPY_COLUMNS)
    await connection.execute(f"SELECT pg_notify('{OUTBOX_CHANNEL}', '')")
    return len(records)


def _random_ids(block: int = 4096) -> Iterator[UUID]:
    """Version 4 UUIDs, as uuid.uuid4 makes them, for bulk work: random bytes a block at a
    time with the version and variant bits set, each wrapped by asyncpg's C UUID type (a
    uuid.UUID), about a tenth of the cost of uuid.uuid4 per id."""
    while True:
        randoms = bytearray(os.urandom(16 * block))
        for start in range(0, 16 * block, 16):
            randoms[start + 6] = (randoms[start + 6] & 0x0F) | 0x40
            randoms[start + 8] = (randoms[start + 8] & 0x3F) | 0x80
            yield _FastUUID(bytes(randoms[start : start + 16]))


class Outgoing(NamedTuple):
    """One event for `emit_many`: what `emit` takes as its arguments."""

    event: DomainEvent
    subject: str | UUID
    jurisdiction: str | None


# One statement for any number of events: one JSON array of [kind, subject, jurisdiction,
# payload] (kind: an index into the arrays of event types), unnested in its order, so the
# rows get increasing seq in the order given (the relay publishes in seq order), and one
# NOTIFY. One text parameter: cheaper to send than a column array per field.
_INSERT_MANY = f"""
    WITH rows AS (
        INSERT INTO outbox (id, aggregate_type, aggregate_id, type, topic, dataschema,
                            payload, occurred_at, jurisdiction, traceparent, causationid,
                            correlationid)
        SELECT uuidv7(), ($1::text[])[k], e.item->>1, ($2::text[])[k], ($3::text[])[k],
               ($4::text[])[k], e.item->3, $6, e.item->>2, $7, $8, $9
        FROM jsonb_array_elements($5::jsonb) WITH ORDINALITY AS e(item, n),
             LATERAL (SELECT (e.item->>0)::int AS k) kind
        ORDER BY e.n
        RETURNING 1
    )
    SELECT count(*), pg_notify('{OUTBOX_CHANNEL}', '') FROM rows
"""


async def emit_many(
    target: AsyncSession | asyncpg.Connection,
    events: Iterable[Outgoing | tuple[DomainEvent, str | UUID, str | None]],
    *,
    occurred_at: datetime | None = None,
) -> int:
    """Record many events in one multi-row insert, in the order given: the same outbox rows
    (envelope) as `emit` for each, each event a catalog model (validated when it was built).
    `target` is the caller's session, or the asyncpg connection of bulk work; either way
    nothing is published unless its transaction commits. Returns how many were written."""
    if isinstance(target, asyncpg.Connection):
        return await _copy_many(target, events, occurred_at or clock.now())
    kinds: dict[type, int] = {}
    aggregate: list[str] = []
    type_: list[str] = []
    topic: list[str] = []
    schema: list[str | None] = []
    items: list[str] = []
    dumps = json.dumps
    for event, subject, jurisdiction in events:
        kind = kinds.get(type(event))
        if kind is None:
            kind = kinds[type(event)] = len(kinds) + 1  # SQL arrays count from 1
            aggregate.append(event.aggregate)
            type_.append(event.event_type())
            topic.append(event.topic())
            schema.append(event.dataschema())
        key = f'"{subject}"' if isinstance(subject, UUID) else dumps(str(subject))
        place = "null" if jurisdiction is None else dumps(jurisdiction)
        items.append(f"[{kind},{key},{place},{event.model_dump_json()}]")
    if not items:
        return 0
    document = "[" + ",".join(items) + "]"
    values = (
        aggregate,
        type_,
        topic,
        schema,
        document,
        occurred_at or clock.now(),
        traceparent_var.get(),
        *event_lineage(),
    )
    if isinstance(target, AsyncSession):
        # Through the session's own connection and cursor, so that its transaction has
        # begun (the driver connection alone would run outside it, in autocommit).
        connection = await target.connection()
        result = await connection.exec_driver_sql(_INSERT_MANY, values)
        return result.one()[0]
    written, _ = await target.fetchrow(_INSERT_MANY, *values)
    return written
