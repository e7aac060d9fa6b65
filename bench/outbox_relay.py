"""Outbox throughput: events written with `emit()` and published by the relay, per second.

    python -m bench.outbox_relay [--events 50000] [--batch 500]

Starts its own embedded PostgreSQL (.local/bench-postgres) and Tansu broker unless
BENCH_POSTGRES_URL / KAFKA_BOOTSTRAP_SERVERS are given, and prints one table.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid
from pathlib import Path
from typing import ClassVar

from devstack.broker import TansuBroker
from devstack.postgres import EmbeddedPostgres, create_databases, free_port
from shared.db.engine import Database, asyncpg_dsn
from shared.events.model import DomainEvent
from shared.migrations import upgrade
from shared.outbox import OutboxRelay, emit

ROOT = Path(__file__).resolve().parent.parent


class BenchHappened(DomainEvent):
    service: ClassVar[str] = "bench"
    aggregate: ClassVar[str] = "item"
    name: ClassVar[str] = "happened"
    item_id: str
    village_code: str
    n: int


async def run(events: int, batch: int, postgres_url: str, bootstrap: str) -> None:
    await create_databases(postgres_url, ["bench_outbox"], recreate=True)
    url = f"{postgres_url}/bench_outbox"
    await asyncio.to_thread(upgrade, ROOT / "services" / "registry", url)
    db = Database(url)
    items = [str(uuid.uuid4()) for _ in range(200)]

    started = time.perf_counter()
    written = 0
    while written < events:
        async with db.transaction() as session:
            for _ in range(min(batch, events - written)):
                item = items[written % len(items)]
                await emit(
                    session,
                    BenchHappened(item_id=item, village_code="12080102", n=written),
                    subject=item,
                    jurisdiction="12080102",
                )
                written += 1
        print(f"\r  writing {written:>8,}/{events:,}", end="", flush=True)
    write_seconds = time.perf_counter() - started
    print()

    relay = OutboxRelay(
        service="bench",
        database_url=url,
        bootstrap_servers=bootstrap,
        batch_size=1000,
        poll_interval=0.2,
    )
    import asyncpg

    conn = await asyncpg.connect(asyncpg_dsn(url))
    started = time.perf_counter()
    relay.start()
    try:
        while True:
            left = await conn.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
            print(f"\r  publishing: {events - left:>8,}/{events:,}", end="", flush=True)
            if left == 0:
                break
            await asyncio.sleep(0.2)
    finally:
        publish_seconds = time.perf_counter() - started
        print()
        await relay.stop()
        await conn.close()
        await db.dispose()

    print()
    print(f"{'what':<44}{'events':>10}{'seconds':>10}{'events/s':>12}")
    print(
        f"{'emit() in transactions of ' + str(batch):<44}{events:>10,}{write_seconds:>10.2f}"
        f"{events / write_seconds:>12,.0f}"
    )
    print(
        f"{'relay publish (acks=all), mark published':<44}{events:>10,}{publish_seconds:>10.2f}"
        f"{events / publish_seconds:>12,.0f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    postgres = broker = None
    postgres_url = os.environ.get("BENCH_POSTGRES_URL")
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    try:
        if not postgres_url:
            postgres = EmbeddedPostgres(
                ROOT / ".local" / "bench-postgres" / "data", port=free_port()
            )
            postgres.start()
            postgres_url = postgres.url
        if not bootstrap:
            broker = TansuBroker(port=free_port())
            broker.start()
            bootstrap = broker.bootstrap_servers
        asyncio.run(run(args.events, args.batch, postgres_url, bootstrap))
    finally:
        if broker:
            broker.stop()
        if postgres:
            postgres.stop()


if __name__ == "__main__":
    main()
