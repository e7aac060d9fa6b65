"""The SLA scheduler's set-based SQL: one statement escalates a whole batch.

For up to `batch` grievances whose deadline has passed (read through the partial index on
`due_at`, locked with SKIP LOCKED), one statement

1. moves each one tier up (CS -> DMK -> CP -> national), starting the new tier's clock from
   the routing rules (passed in as arrays and joined), or, at the national tier, clears the
   deadline (it stays overdue and is reported, there is nobody above);
2. bumps `version`, so a handler's concurrent write ends in 412 instead of undoing it;
3. inserts the timeline entries (sla_breached, escalated), and
4. inserts the outbox rows (`sla_breached`, then `escalated`, in that order per grievance).

Payloads are built with jsonb_build_object in the shape of the catalog's pydantic models
(`GrievanceSlaBreached`, `GrievanceEscalated`); a test validates them against the models.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.grievance.routing import sla_table
from shared.db.platform_tables import OUTBOX_CHANNEL
from shared.events.catalog.grievance import GrievanceEscalated, GrievanceSlaBreached

_ESCALATE = text(
    """
WITH rules AS (
    SELECT * FROM unnest(
        CAST(:rule_categories AS text[]), CAST(:rule_tiers AS text[]),
        CAST(:rule_ack AS int[]), CAST(:rule_resolve AS int[])
    ) AS r(category, tier, ack_hours, resolve_hours)
),
steps (from_tier, to_tier, code_length) AS (
    VALUES ('cs', 'dmk', 4), ('dmk', 'cp', 2), ('cp', 'national', 0),
           ('national', NULL, NULL)
),
due AS (
    SELECT g.id, g.category, g.handling_tier AS from_tier,
           g.handling_admin_code AS from_code, g.due_kind AS breached_kind,
           g.due_at AS breached_due
    FROM grievance g
    WHERE g.due_at IS NOT NULL AND g.due_at <= :now
    ORDER BY g.due_at
    LIMIT :batch
    FOR UPDATE SKIP LOCKED
),
moved AS (
    UPDATE grievance g SET
        handling_tier = coalesce(s.to_tier, g.handling_tier),
        handling_admin_code = CASE WHEN s.to_tier IS NULL THEN g.handling_admin_code
                                   ELSE left(g.location_code, s.code_length) END,
        tier_entered_at = CASE WHEN s.to_tier IS NULL THEN g.tier_entered_at
                               ELSE CAST(:now AS timestamptz) END,
        due_at = CASE
            WHEN s.to_tier IS NULL THEN NULL
            WHEN g.due_kind = 'acknowledge'
                THEN CAST(:now AS timestamptz) + make_interval(hours => r.ack_hours)
            ELSE CAST(:now AS timestamptz) + make_interval(hours => r.resolve_hours)
        END,
        due_kind = CASE WHEN s.to_tier IS NULL THEN NULL ELSE g.due_kind END,
        escalation_count = g.escalation_count + CAST(s.to_tier IS NOT NULL AS int),
        sla_breach_count = g.sla_breach_count + 1,
        updated_at = :now,
        version = g.version + 1
    FROM due
    JOIN steps s ON s.from_tier = due.from_tier
    LEFT JOIN rules r ON r.category = due.category AND r.tier = s.to_tier
    WHERE g.id = due.id
    RETURNING g.id, g.category, g.location_code, g.handling_tier AS to_tier,
              g.handling_admin_code AS to_code, due.from_tier, due.from_code,
              due.breached_kind, due.breached_due, s.to_tier IS NOT NULL AS escalated
),
entries AS (
    SELECT m.*, k.n
    FROM moved m CROSS JOIN (VALUES (1), (2)) AS k(n)
    WHERE k.n = 1 OR m.escalated
),
timeline AS (
    INSERT INTO grievance_timeline (grievance_id, occurred_at, kind, public, actor, details)
    SELECT e.id, :now,
           CASE e.n WHEN 1 THEN 'sla_breached' ELSE 'escalated' END,
           true, 'system',
           CASE e.n
               WHEN 1 THEN jsonb_build_object('deadline', e.breached_kind,
                                              'due_at', e.breached_due)
               ELSE jsonb_build_object('automatic', true, 'from_tier', e.from_tier,
                                       'from_admin_code', e.from_code, 'to_tier', e.to_tier,
                                       'to_admin_code', e.to_code)
           END
    FROM entries e
    ORDER BY e.id, e.n
),
events AS (
    INSERT INTO outbox (id, aggregate_type, aggregate_id, type, topic, dataschema, payload,
                        occurred_at, jurisdiction)
    SELECT gen_random_uuid(), 'grievance', CAST(e.id AS text),
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
    ORDER BY e.id, e.n
)
SELECT count(*) AS breached, count(*) FILTER (WHERE escalated) AS escalated FROM moved
"""
)

LOCK_SQL = text("SELECT pg_try_advisory_lock(hashtext('grievance'), hashtext('sla-scheduler'))")
UNLOCK_SQL = text("SELECT pg_advisory_unlock(hashtext('grievance'), hashtext('sla-scheduler'))")
NOTIFY_SQL = text(f"SELECT pg_notify('{OUTBOX_CHANNEL}', '')")


@dataclass(frozen=True)
class BatchResult:
    breached: int
    escalated: int


def _rule_parameters() -> dict[str, list]:
    table = sla_table()
    return {
        "rule_categories": [row[0] for row in table],
        "rule_tiers": [row[1] for row in table],
        "rule_ack": [row[2] for row in table],
        "rule_resolve": [row[3] for row in table],
    }


_STATIC = {
    "topic": GrievanceEscalated.topic(),
    "breached_type": GrievanceSlaBreached.event_type(),
    "escalated_type": GrievanceEscalated.event_type(),
    "breached_schema": GrievanceSlaBreached.dataschema(),
    "escalated_schema": GrievanceEscalated.dataschema(),
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
