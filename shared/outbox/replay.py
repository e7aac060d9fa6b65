"""Re-publish a service's outbox rows from a time or a sequence number.

    python -m shared.outbox.replay --database-url "$REGISTRY_DATABASE_URL" --since 2026-12-06T08:00Z
    python -m shared.outbox.replay --database-url "$REGISTRY_DATABASE_URL" --from-seq 18234 \\
        --topic sp.registry.household

The rows (kept `<S>_OUTBOX_RETENTION_HOURS` after publication) are marked unpublished, and the
service's running relay publishes them again in `seq` order, with their original event ids:
every consumer's inbox skips the events it already applied, so replaying is safe to repeat.
Rows purged by the retention cannot be replayed; the command says from when rows are kept.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from shared.db.engine import asyncpg_dsn
from shared.db.platform_tables import OUTBOX_CHANNEL


@dataclass(frozen=True)
class Requeued:
    rows: int
    first_seq: int | None
    oldest_kept: datetime | None  # the oldest row still in the outbox (older ones are purged)


async def requeue(
    database_url: str,
    *,
    since: datetime | None = None,
    from_seq: int | None = None,
    topic: str | None = None,
) -> Requeued:
    """Mark the published rows from `since` (occurred at or after) or `from_seq` (at or after),
    of `topic` or of all topics, for the relay to publish again."""
    if (since is None) == (from_seq is None):
        raise ValueError("give exactly one of since and from_seq")
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        async with conn.transaction():
            row = await conn.fetchrow(
                """
                WITH again AS (
                    UPDATE outbox SET published_at = NULL
                    WHERE published_at IS NOT NULL
                      AND ($1::timestamptz IS NULL OR occurred_at >= $1)
                      AND ($2::bigint IS NULL OR seq >= $2)
                      AND ($3::text IS NULL OR topic = $3)
                    RETURNING seq
                )
                SELECT count(*) AS rows, min(seq) AS first_seq FROM again
                """,
                since,
                from_seq,
                topic,
            )
            oldest = await conn.fetchval("SELECT min(occurred_at) FROM outbox")
            await conn.execute(f"NOTIFY {OUTBOX_CHANNEL}")
        return Requeued(row["rows"], row["first_seq"], oldest)
    finally:
        await conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m shared.outbox.replay",
        description="Re-publish a service's retained outbox rows (consumers skip duplicates).",
    )
    parser.add_argument("--database-url", required=True, help="the service's database URL")
    start = parser.add_mutually_exclusive_group(required=True)
    start.add_argument(
        "--since", type=datetime.fromisoformat, help="events that occurred at or after (ISO 8601)"
    )
    start.add_argument("--from-seq", type=int, help="events from this outbox sequence number")
    parser.add_argument("--topic", help="only this topic (default: every topic of the service)")
    args = parser.parse_args(argv)
    if args.since is not None and args.since.tzinfo is None:
        parser.error("--since needs a time zone (for example 2026-12-06T08:00+07:00)")
    result = asyncio.run(
        requeue(args.database_url, since=args.since, from_seq=args.from_seq, topic=args.topic)
    )
    print(
        f"{result.rows} outbox rows queued for publication again"
        + (f", from seq {result.first_seq}" if result.first_seq is not None else "")
        + "; the service's relay publishes them in order."
    )
    if result.oldest_kept is not None:
        print(f"Rows are kept from {result.oldest_kept.isoformat()} (older ones were purged).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
