"""Grievance SLA scheduler over a million open grievances, and public submissions meanwhile.

    python -m bench.grievance_sla [--grievances 1000000] [--due-share 0.01] [--seconds 10]

Starts its own embedded PostgreSQL (.local/bench-postgres) and Tansu broker unless
BENCH_POSTGRES_URL / KAFKA_BOOTSTRAP_SERVERS are given, then:

1. loads N open grievances with set-based SQL (generate_series, 100,000 rows a statement)
   spread over ~1,650 communes, with deadlines spread over the next 30 days except a
   `--due-share` that is already due;
2. times one scheduler pass (escalating the due ones: UPDATE ... RETURNING plus timeline and
   outbox rows, batches of 10,000), then a worst-case pass where every grievance is due;
3. runs the grievance service as a real process (uvicorn, its own scheduler off, relay on)
   behind the gateway in this process (real policy, ASGI transport, client IPs rotated so the
   per-IP public rate limit does not cap the measurement) and measures public submissions
   per second for `--seconds`, without and then with scheduler passes running back to back
   against the same database (the clock moves 1 hour per pass so every pass has work).

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from devstack.broker import TansuBroker
from devstack.postgres import EmbeddedPostgres, create_databases, free_port
from services.grievance.clock import ManualClock
from services.grievance.sla.scheduler import SlaScheduler
from shared.db.engine import Database, asyncpg_dsn
from shared.gazetteer import Level, get_gazetteer
from shared.migrations import upgrade

ROOT = Path(__file__).resolve().parent.parent
CHUNK = 100_000

_LOAD = """
INSERT INTO grievance (id, tracking_code, channel, category, sensitive, location_code,
    description, anonymous, status, handling_tier, handling_admin_code, tier_entered_at,
    due_kind, due_at, submitted_at, updated_at)
SELECT gen_random_uuid(), 'B' || lpad(i::text, 9, '0'), 'hotline', 'other', false,
       c.code, 'benchmark grievance', true, 'submitted', 'cs', c.code, $1::timestamptz,
       'acknowledge',
       CASE WHEN i % $5 = 0 THEN $1::timestamptz - interval '1 minute'
            ELSE $1::timestamptz + (i % 43200) * interval '1 minute' + interval '1 hour' END,
       $1, $1
FROM generate_series($2::bigint, $3::bigint) AS i
JOIN LATERAL (SELECT ($4::text[])[1 + (i % array_length($4::text[], 1))] AS code) c ON true
"""


async def load(url: str, total: int, due_share: float, now: datetime) -> float:
    import asyncpg

    communes = [u.code for u in get_gazetteer().descendants("", Level.COMMUNE)] or ["120801"]
    every = max(1, round(1 / due_share)) if due_share > 0 else total + 1
    conn = await asyncpg.connect(asyncpg_dsn(url))
    started = time.perf_counter()
    try:
        for first in range(1, total + 1, CHUNK):
            last = min(total, first + CHUNK - 1)
            await conn.execute(_LOAD, now, first, last, communes, every)
            print(f"\r  loading {last:>9,}/{total:,}", end="", flush=True)
        print()
        await conn.execute("ANALYZE grievance")
    finally:
        await conn.close()
    return time.perf_counter() - started


async def submissions_per_second(gateway, seconds: float, concurrency: int = 16) -> float:
    done = 0
    deadline = time.monotonic() + seconds
    body = {
        "category": "payment_problem",
        "description": "The payment did not arrive.",
        "location_code": "120801",
        "anonymous": True,
    }

    async def worker(n: int) -> None:
        nonlocal done
        i = 0
        while time.monotonic() < deadline:
            i += 1
            # A fresh client IP per request: the public rate class allows 1/s per IP.
            ip = f"10.{n}.{(i // 250) % 250}.{i % 250 + 1}"
            transport = httpx.ASGITransport(app=gateway, client=(ip, 5000))
            async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
                response = await client.post("/grievance/public/grievances", json=body)
            if response.status_code == 201:
                done += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker(n) for n in range(concurrency)))
    return done / (time.perf_counter() - started)


async def run(args, postgres_url: str, bootstrap: str) -> None:
    await create_databases(postgres_url, ["bench_grievance"], recreate=True)
    url = f"{postgres_url}/bench_grievance"
    await asyncio.to_thread(upgrade, ROOT / "services" / "grievance", url)
    now = datetime.now(UTC)
    load_seconds = await load(url, args.grievances, args.due_share, now)

    database = Database(url)
    clock = ManualClock(now)
    scheduler = SlaScheduler(database, clock, batch_size=10_000)
    typical = await scheduler.run_pass()
    clock.advance(days=31)
    worst = await scheduler.run_pass()

    port = free_port()
    env = {
        **os.environ,
        "GRIEVANCE_DATABASE_URL": url,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "GRIEVANCE_SLA_SCHEDULER_ENABLED": "false",
        "GRIEVANCE_LOG_LEVEL": "WARNING",
        "SP_ENVIRONMENT": "development",
    }
    process = subprocess.Popen(  # noqa: ASYNC220 - started once, before measuring
        [sys.executable, "-m", "uvicorn", "services.grievance.main:app", "--port", str(port),
         "--no-access-log"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)  # noqa: ASYNC210
                if health.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
        from gateway.config import Settings as GatewaySettings
        from gateway.main import create_app as create_gateway

        gateway = create_gateway(
            GatewaySettings(
                grievance_url=f"http://127.0.0.1:{port}", log_json=False, log_level="WARNING"
            )
        )
        async with gateway.router.lifespan_context(gateway):
            alone = await submissions_per_second(gateway, args.seconds)
            stop = asyncio.Event()
            passes: list = []

            async def keep_escalating() -> None:
                while not stop.is_set():
                    clock.advance(hours=1)
                    passes.append(await scheduler.run_pass())

            runner = asyncio.create_task(keep_escalating())
            with_scheduler = await submissions_per_second(gateway, args.seconds)
            stop.set()
            await runner
    finally:
        process.terminate()
        process.wait(10)
        await database.dispose()

    worked = [p for p in passes if p is not None]
    print()
    print(f"{'what':<62}{'value':>16}")
    loaded = f"load {args.grievances:,} open grievances (s)"
    print(f"{loaded:<62}{load_seconds:>16.1f}")
    print(f"{'pass, ' + format(typical.breached, ',') + ' due (s)':<62}{typical.seconds:>16.2f}")
    print(f"{'pass, every one due: ' + format(worst.breached, ',') + ' escalated (s)':<62}"
          f"{worst.seconds:>16.2f}")  # fmt: skip
    print(f"{'public submissions/s through the gateway, scheduler idle':<62}{alone:>16.1f}")
    print(f"{'public submissions/s, scheduler passes back to back':<62}{with_scheduler:>16.1f}")
    if worked:
        mean = sum(p.seconds for p in worked) / len(worked)
        escalated = sum(p.breached for p in worked)
        print(f"{'  passes meanwhile / grievances escalated / mean pass (s)':<62}"
              f"{f'{len(worked)} / {escalated:,} / {mean:.2f}':>16}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--grievances", type=int, default=1_000_000)
    parser.add_argument("--due-share", type=float, default=0.01)
    parser.add_argument("--seconds", type=float, default=10.0)
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
        asyncio.run(run(args, postgres_url, bootstrap))
    finally:
        if broker:
            broker.stop()
        if postgres:
            postgres.stop()


if __name__ == "__main__":
    main()
