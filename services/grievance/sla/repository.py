"""The SLA scheduler's set-based SQL: one statement escalates a whole batch.

For up to `batch` grievances whose deadline has passed (read through the partial index on
`due_at`, locked with SKIP LOCKED), one statement

1. moves each one tier up (CS -> DMK -> CP -> national), starting the new tier's clock from
   the routing rules (passed in as arrays and joined), or, at the national tier, clears the
   deadline (it stays overdue and is reported, there is nobody above);
2. bumps `version`, so a handler's concurrent write ends in 412 instead of undoing it;
3. inserts one timeline entry per grievance (`escalated`, naming the deadline it breached;
   `sla_breached` at the national tier), and
4. inserts the outbox rows (`sla_breached`, then `escalated`, in that order per grievance).

A second statement closes resolved grievances whose reopening period (`reopen_until`)
ended, with a `closed` timeline entry and a `closed` event marked automatic.

Payloads are built with jsonb_build_object in the shape of the catalog's pydantic models
(`GrievanceSlaBreached`, `GrievanceEscalated`, `GrievanceClosed`); tests validate them
against the models.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.grievance.routing import escalation_table
from shared.db.platform_tables import OUTBOX_CHANNEL
from shared.events.catalog.grievance import (
    GrievanceClosed,
    GrievanceEscalated,
    GrievanceSlaBreached,
)

# A UUIDv7 (48-bit millisecond time, version and variant bits, random rest) from
# gen_random_uuid(), for servers before PostgreSQL 18's uuidv7().
_UUID_V7 = """CAST(encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
        PLACING substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint)
                          FROM 3)
        FROM 1 FOR 6), 52, 1), 53, 1), 'hex') AS uuid)"""

_ESCALATE = text(
    """
WITH next_unit AS (
    SELECT * FROM unnest(
        CAST(:rule_categories AS text[]), CAST(:rule_from_tiers AS text[]),
        CAST(:rule_to_tiers AS text[]), CAST(:rule_code_lengths AS int[]),
        CAST(:rule_ack AS int[]), CAST(:rule_resolve AS int[])
    ) AS r(category, from_tier, to_tier, code_length, ack_hours, resolve_hours)
),
due AS (
    -- Locked, so these are the values the UPDATE below replaces.
    SELECT g.ctid AS address, g.id, g.handling_tier AS from_tier,
           g.handling_admin_code AS from_code, g.due_kind AS breached_kind,
           g.due_at AS breached_due
    FROM grievance g
    WHERE g.due_at <= :now
    ORDER BY g.due_at
    LIMIT :batch
    FOR UPDATE SKIP LOCKED
),
moved AS (
    UPDATE grievance g SET
        handling_tier = coalesce(n.to_tier, g.handling_tier),
        handling_admin_code = CASE WHEN n.to_tier IS NULL THEN g.handling_admin_code
                                   ELSE left(g.location_code, n.code_length) END,
        tier_entered_at = CASE WHEN n.to_tier IS NULL THEN g.tier_entered_at
                               ELSE CAST(:now AS timestamptz) END,
        due_at = CAST(:now AS timestamptz) + CASE g.due_kind
            WHEN 'acknowledge' THEN n.ack_hours ELSE n.resolve_hours END * interval '1 hour',
        due_kind = CASE WHEN n.to_tier IS NULL THEN NULL ELSE g.due_kind END,
        escalation_count = g.escalation_count + CAST(n.to_tier IS NOT NULL AS int),
        sla_breach_count = g.sla_breach_count + 1,
        updated_at = :now,
        version = g.version + 1
    FROM next_unit n
    -- The locked rows by their physical address (a TID scan): joined on id, the planner
    -- prefers hashing a sequential scan of the whole table, once per batch (and joining
    -- `due` here for the old values made the statement ~30% slower than joining after).
    -- The deadline is checked again, so an address could never reach another row.
    WHERE g.ctid = ANY (ARRAY(SELECT address FROM due)) AND g.due_at <= :now
      AND n.category = g.category AND n.from_tier = g.handling_tier
    RETURNING g.id, g.category, g.location_code, g.handling_tier AS to_tier,
              g.handling_admin_code AS to_code, n.to_tier IS NOT NULL AS escalated
),
breached AS (
    -- What each one was before: the values locked in `due`.
    SELECT m.*, d.from_tier, d.from_code, d.breached_kind, d.breached_due
    FROM moved m JOIN due d USING (id)
),
entries AS (
    -- Per grievance the breach (n = 1) before its escalation (n = 2), next to each other:
    -- seq order is the order consumers see them in.
    SELECT m.*, k.n
    FROM breached m CROSS JOIN (VALUES (1), (2)) AS k(n)
    WHERE k.n = 1 OR m.escalated
    ORDER BY m.id, k.n
),
timeline AS (
    -- One entry per grievance: the escalation names the deadline it breached (at the
    -- national tier, where nobody is above, the entry is the breach itself).
    INSERT INTO grievance_timeline (grievance_id, occurred_at, kind, public, actor, details)
    SELECT m.id, :now,
           CASE WHEN m.escalated THEN 'escalated' ELSE 'sla_breached' END,
           true, 'system',
           CASE WHEN m.escalated
               THEN jsonb_build_object('automatic', true, 'deadline', m.breached_kind,
                                       'due_at', m.breached_due, 'from_tier', m.from_tier,
                                       'from_admin_code', m.from_code, 'to_tier', m.to_tier,
                                       'to_admin_code', m.to_code)
               ELSE jsonb_build_object('deadline', m.breached_kind, 'due_at', m.breached_due)
           END
    FROM breached m
),
events AS (
    -- Time-ordered ids (UUIDv7 layout; PostgreSQL 16 has no uuidv7()) land at the right
    -- edge of the outbox's unique index instead of on a random page each (a large pass
    -- would otherwise touch, and log, all of it).
    INSERT INTO outbox (id, aggregate_type, aggregate_id, type, topic, dataschema, payload,
                        occurred_at, jurisdiction)
    SELECT {_UUID_V7}, 'grievance', CAST(e.id AS text),
           CASE e.n WHEN 1 THEN :breached_type ELSE :escalated_type END,
           :topic,
           CASE e.n WHEN 1 THEN :breached_schema ELSE :escalated_schema END,
           CASE e.n
               WHEN 1 THEN jsonb_build_object(
                   'grievance_id', e.id, 'category', e.category,
                   'location_code', e.location_code,
                   'handling_admin_code', e.from_code, 'handling_tier', e.from_tier,
                   'deadline', e.breached_kind, 'due_at', e.breached_due,
                   'breached_at', CAST(:now AS timestamptz))
               ELSE jsonb_build_object(
                   'grievance_id', e.id, 'category', e.category,
                   'location_code', e.location_code,
                   'handling_admin_code', e.to_code, 'handling_tier', e.to_tier,
                   'automatic', true, 'from_tier', e.from_tier, 'from_admin_code', e.from_code,
                   'to_tier', e.to_tier, 'to_admin_code', e.to_code,
                   'reason', 'sla_breached:' || e.breached_kind,
                   'escalated_at', CAST(:now AS timestamptz))
           END,
           :now, e.location_code
    FROM entries e
)
SELECT count(*) FILTER (WHERE n = 1) AS breached,
       count(*) FILTER (WHERE n = 2) AS escalated
FROM entries
""".replace("{_UUID_V7}", _UUID_V7)
)

_CLOSE = text(
    """
WITH due AS (
    SELECT g.ctid FROM grievance g
    WHERE g.status = 'resolved' AND g.reopen_until <= :now
    ORDER BY g.reopen_until
    LIMIT :batch
    FOR UPDATE SKIP LOCKED
),
closed AS (
    UPDATE grievance g SET status = 'closed', closed_at = :now, updated_at = :now,
                           version = g.version + 1
    WHERE g.ctid = ANY (ARRAY(SELECT ctid FROM due))
      AND g.status = 'resolved' AND g.reopen_until <= :now
    RETURNING g.id, g.category, g.location_code, g.handling_admin_code, g.handling_tier,
              g.decision
),
timeline AS (
    INSERT INTO grievance_timeline (grievance_id, occurred_at, kind, public, actor, details)
    SELECT c.id, :now, 'closed', true, 'system', jsonb_build_object('automatic', true)
    FROM closed c
),
events AS (
    INSERT INTO outbox (id, aggregate_type, aggregate_id, type, topic, dataschema, payload,
                        occurred_at, jurisdiction)
    SELECT {_UUID_V7}, 'grievance', CAST(c.id AS text), :closed_type, :topic, :closed_schema,
           jsonb_build_object(
               'grievance_id', c.id, 'category', c.category, 'location_code', c.location_code,
               'handling_admin_code', c.handling_admin_code, 'handling_tier', c.handling_tier,
               'decision', c.decision, 'closed_at', CAST(:now AS timestamptz),
               'automatic', true),
           :now, c.location_code
    FROM closed c
)
SELECT count(*) FROM closed
""".replace("{_UUID_V7}", _UUID_V7)
)

LOCK_SQL = text("SELECT pg_try_advisory_lock(hashtext('grievance'), hashtext('sla-scheduler'))")
UNLOCK_SQL = text("SELECT pg_advisory_unlock(hashtext('grievance'), hashtext('sla-scheduler'))")
NOTIFY_SQL = text(f"SELECT pg_notify('{OUTBOX_CHANNEL}', '')")


@dataclass(frozen=True)
class BatchResult:
    breached: int
    escalated: int


def _rule_parameters() -> dict[str, list]:
    """Per (category, current tier): the tier above, its code length and its SLA hours
    (all NULL at the national tier), from the routing rules."""
    rows = escalation_table()
    return {
        "rule_categories": [r.category for r in rows],
        "rule_from_tiers": [r.from_tier for r in rows],
        "rule_to_tiers": [r.to_tier for r in rows],
        "rule_code_lengths": [r.code_length for r in rows],
        "rule_ack": [r.acknowledge_hours for r in rows],
        "rule_resolve": [r.resolve_hours for r in rows],
    }


_STATIC = {
    "topic": GrievanceEscalated.topic(),
    "breached_type": GrievanceSlaBreached.event_type(),
    "escalated_type": GrievanceEscalated.event_type(),
    "breached_schema": GrievanceSlaBreached.dataschema(),
    "escalated_schema": GrievanceEscalated.dataschema(),
}
_CLOSE_STATIC = {
    "topic": GrievanceClosed.topic(),
    "closed_type": GrievanceClosed.event_type(),
    "closed_schema": GrievanceClosed.dataschema(),
}


async def try_lock(connection: AsyncConnection) -> bool:
    return bool((await connection.execute(LOCK_SQL)).scalar())


async def unlock(connection: AsyncConnection) -> None:
    await connection.execute(UNLOCK_SQL)


async def escalate_breached(
    connection: AsyncConnection, *, now: datetime, batch: int
) -> BatchResult:
    """One batch, in the caller's transaction."""
    row = (
        await connection.execute(
            _ESCALATE, {"now": now, "batch": batch, **_rule_parameters(), **_STATIC}
        )
    ).one()
    if row.breached:
        await connection.execute(NOTIFY_SQL)
    return BatchResult(breached=row.breached, escalated=row.escalated)


async def close_unreopened(connection: AsyncConnection, *, now: datetime, batch: int) -> int:
    """One batch of resolved grievances whose reopening period ended: closed, with a
    timeline entry and a `closed` event marked automatic, in the caller's transaction."""
    closed = int(
        (await connection.execute(_CLOSE, {"now": now, "batch": batch, **_CLOSE_STATIC})).scalar()
        or 0
    )
    if closed:
        await connection.execute(NOTIFY_SQL)
    return closed
