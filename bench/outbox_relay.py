"""Outbox throughput: events written with `emit()` and published by the relay, per second,
beside a bare producer sending the same messages to the same broker.

    python -m bench.outbox_relay [--events 50000] [--batch 500]

Starts its own embedded PostgreSQL (.local/bench-postgres) and Tansu broker unless
BENCH_POSTGRES_URL / KAFKA_BOOTSTRAP_SERVERS are given, and prints one table.

The baseline: the same number of messages, with the relay's keys, headers and envelope sizes
(built before timing), sent by the platform's producer (`shared.kafka.new_producer`,
acks=all) in batches of the relay's size, each batch awaited. What the relay adds on top is
reading the rows, building the envelopes and marking them published. Each line gives the CPU
of this process (where the relay runs) and of the broker per event, steadier than events/s on
a shared machine, and the relay's ratio to the baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid
from pathlib import Path
from typing import ClassVar

import asyncpg
import psutil

from devstack.broker import TansuBroker
from devstack.postgres import EmbeddedPostgres, create_databases, free_port
from shared.db.engine import Database, asyncpg_dsn
from shared.events.envelope import CONTENT_TYPE, build_envelope, encode
from shared.events.model import DomainEvent
from shared.kafka import ensure_topics, new_producer
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


def cpu_seconds(pid: int | None) -> tuple[float, float | None]:
    """(this process, the broker) CPU seconds so far."""
    own = time.process_time()
    if pid is None:
        return own, None
    times = psutil.Process(pid).cpu_times()
    return own, times.user + times.system


def spent(mark: tuple[float, float | None], pid: int | None) -> tuple[float, float | None]:
    now = cpu_seconds(pid)
    return now[0] - mark[0], None if mark[1] is None else now[1] - mark[1]


async def bare_producer(bootstrap: str, values: list[tuple[bytes, bytes]], batch: int) -> float:
    """Send `values` (key, value) as the relay would, awaiting each batch; seconds taken."""
    topic = "sp.bench.baseline"
    await ensure_topics(bootstrap, [topic])
    producer = new_producer(bootstrap)
    await producer.start()
    headers = [("content-type", CONTENT_TYPE.encode())]
    try:
        started = time.perf_counter()
        for start in range(0, len(values), batch):
            futures = [
                await producer.send(topic, value=value, key=key, headers=headers)
                for key, value in values[start : start + batch]
            ]
            await asyncio.gather(*futures)
            print(f"\r  bare producer: {start + len(futures):>8,}/{len(values):,}", end="")
        seconds = time.perf_counter() - started
        print()
        return seconds
    finally:
        await producer.stop()


async def run(
    events: int, batch: int, postgres_url: str, bootstrap: str, broker_pid: int | None
) -> None:
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

    # The baseline's messages: the relay's own envelopes of these rows, encoded beforehand.
    conn = await asyncpg.connect(asyncpg_dsn(url))
    rows = await conn.fetch("SELECT * FROM outbox ORDER BY seq")
    await conn.close()
    values = [
        (row["aggregate_id"].encode(), encode(build_envelope(row, "/sp/bench"))) for row in rows
    ]
    mark = cpu_seconds(broker_pid)
    bare_seconds = await bare_producer(bootstrap, values, 1000)
    bare_cpu = spent(mark, broker_pid)

    relay = OutboxRelay(
        service="bench",
        database_url=url,
        bootstrap_servers=bootstrap,
        batch_size=1000,
        poll_interval=0.2,
    )
    conn = await asyncpg.connect(asyncpg_dsn(url))
    mark = cpu_seconds(broker_pid)
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
        relay_cpu = spent(mark, broker_pid)
        print()
        await relay.stop()
        await conn.close()
        await db.dispose()

    def cpu(seconds: float | None) -> str:
        return f"{seconds / events * 1e6:>10,.0f}" if seconds is not None else f"{'-':>10}"

    print()
    print(f"load average (1 min): {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(
        f"{'what':<44}{'events':>10}{'seconds':>10}{'events/s':>12}"
        f"{'CPU us/event: bench':>21}{'broker':>10}"
    )
    print(
        f"{'emit() in transactions of ' + str(batch):<44}{events:>10,}{write_seconds:>10.2f}"
        f"{events / write_seconds:>12,.0f}"
    )
    print(
        f"{'baseline: bare producer, same messages':<44}{events:>10,}{bare_seconds:>10.2f}"
        f"{events / bare_seconds:>12,.0f}{cpu(bare_cpu[0]):>21}{cpu(bare_cpu[1])}"
    )
    print(
        f"{'relay publish (acks=all), mark published':<44}{events:>10,}{publish_seconds:>10.2f}"
        f"{events / publish_seconds:>12,.0f}{cpu(relay_cpu[0]):>21}{cpu(relay_cpu[1])}"
    )
    print()
    print(
        f"relay / bare producer: {bare_seconds / publish_seconds:.2f} of the baseline's "
        f"events/s; {relay_cpu[0] / bare_cpu[0]:.1f}x its CPU per event in this process"
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
        broker_pid = broker._process.pid if broker and broker._process else None
        asyncio.run(run(args.events, args.batch, postgres_url, bootstrap, broker_pid))
    finally:
        if broker:
            broker.stop()
        if postgres:
            postgres.stop()


if __name__ == "__main__":
    main()
