"""Grievance SLA scheduler over a million open grievances, and public submissions meanwhile.

    python -m bench.grievance_sla [--grievances 1000000] [--due-share 0.01] [--seconds 10]
                                  [--batch-size N] [--skip-worst]

Starts its own embedded PostgreSQL (.local/bench-postgres) and Tansu broker unless
BENCH_POSTGRES_URL / KAFKA_BOOTSTRAP_SERVERS are given, then:

1. loads N open grievances with set-based SQL (generate_series, 100,000 rows a statement)
   spread over ~1,650 communes, with deadlines spread over the next 30 days except a
   `--due-share` that is already due;
2. runs the grievance service as a real process (uvicorn, its own scheduler off, relay on)
   behind the gateway in this process (real policy, ASGI transport, client IPs rotated so the
   per-IP public rate limit does not cap the measurement; 16 concurrent clients) and
   measures public submissions per second for `--seconds` with the scheduler idle;
3. times one scheduler pass over the due share (escalating them: UPDATE ... RETURNING plus
   timeline and outbox rows, in batches);
4. measures submissions again while scheduler passes run back to back (the clock moves one
   hour per pass, so each pass escalates the ~1/720 of the grievances due in that hour);
5. moves the clock 31 days so every open grievance is due and times that worst-case pass
   while submissions go on (submissions/s during the pass), then reports the outbox rows the
   service's relay still has to publish and submissions/s while it publishes them.

`--server-setting max_wal_size=8GB` (repeatable) sets a reload-level setting on the bench's
own server for this run (every run starts by resetting them): with the default 1GB a
worst-case pass checkpoints every few seconds and most of its WAL is full-page images.

The order matters: a worst-case pass leaves two million events to publish, and the relay
publishing them runs in the service process and takes CPU from submissions for minutes.

Prints figures with the load average beside them (the machine may be shared); asserts
nothing.
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
from services.grievance.config import Settings
from services.grievance.sla.scheduler import SlaScheduler
from shared.clock import ManualClock
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


async def submissions_per_second(
    gateway, seconds: float, concurrency: int = 16, until: asyncio.Event | None = None
) -> float:
    """Public submissions per second for `seconds`, or until `until` is set."""
    done = 0
    deadline = time.monotonic() + (seconds if until is None else 1e9)
    body = {
        "category": "payment_problem",
        "description": "The payment did not arrive.",
        "location_code": "120801",
        "anonymous": True,
    }

    async def from_address(scope, receive, send) -> None:
        # Each request comes from the address in its x-bench-client header: one client
        # (connection) per worker, yet a fresh address per request, because the public rate
        # class allows 1/s per IP and would otherwise cap the measurement.
        if scope["type"] == "http":
            address = dict(scope["headers"]).get(b"x-bench-client", b"10.0.0.1").decode()
            scope = {**scope, "client": (address, 5000)}
        await gateway(scope, receive, send)

    async def worker(n: int) -> None:
        nonlocal done
        i = 0
        transport = httpx.ASGITransport(app=from_address)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            while time.monotonic() < deadline and not (until and until.is_set()):
                i += 1
                address = f"10.{n}.{(i // 250) % 250}.{i % 250 + 1}"
                response = await client.post(
                    "/grievance/public/grievances", json=body, headers={"x-bench-client": address}
                )
                if response.status_code == 201:
                    done += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker(n) for n in range(concurrency)))
    return done / (time.perf_counter() - started)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _load_average() -> str:
    return f"{os.getloadavg()[0]:.1f}"


async def outbox_backlog(url: str) -> int:
    import asyncpg

    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return await conn.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
    finally:
        await conn.close()


async def configure_server(postgres_url: str, settings: list[str]) -> None:
    """Reset the bench server's own configuration, then apply `NAME=VALUE` settings (reload-
    level ones such as max_wal_size), so a run without them measures the defaults."""
    import asyncpg

    conn = await asyncpg.connect(asyncpg_dsn(postgres_url) + "/postgres")
    try:
        await conn.execute("ALTER SYSTEM RESET ALL")
        for setting in settings:
            name, _, value = setting.partition("=")
            await conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
        await conn.execute("SELECT pg_reload_conf()")
    finally:
        await conn.close()


async def run(args, postgres_url: str, bootstrap: str) -> None:
    if args.own_server:
        await configure_server(postgres_url, args.server_setting)
    await create_databases(postgres_url, ["bench_grievance"], recreate=True)
    url = f"{postgres_url}/bench_grievance"
    await asyncio.to_thread(upgrade, ROOT / "services" / "grievance", url)
    now = datetime.now(UTC)
    load_seconds = await load(url, args.grievances, args.due_share, now)

    database = Database(url)
    clock = ManualClock(now)
    scheduler = SlaScheduler(database, clock, batch_size=args.batch_size)
    rows: list[tuple[str, str, str]] = []

    def report(what: str, value: str) -> None:
        rows.append((what, value, _load_average()))
        print(f"  {what}: {value}", flush=True)

    changed = ", ".join(args.server_setting) or "none" if args.own_server else "(external server)"
    report("PostgreSQL settings changed", changed)
    report(f"load {args.grievances:,} open grievances (s)", f"{load_seconds:.1f}")

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
    print(f"  grievance service pid {process.pid} (for py-spy)", flush=True)
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
            await submissions_per_second(gateway, 1.0)  # warm up connections and caches
            service_cpu, own_cpu = cpu_seconds(process.pid), time.process_time()
            alone = await submissions_per_second(gateway, args.seconds)
            report("public submissions/s through the gateway, scheduler idle", f"{alone:.1f}")
            submitted = alone * args.seconds
            report("  CPU ms per submission: grievance process / gateway+clients",
                   f"{(cpu_seconds(process.pid) - service_cpu) * 1000 / submitted:.2f} / "
                   f"{(time.process_time() - own_cpu) * 1000 / submitted:.2f}")  # fmt: skip

            typical = await scheduler.run_pass()
            report(f"pass, {typical.breached:,} due of {args.grievances:,} (s)",
                   f"{typical.seconds:.2f}")  # fmt: skip

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
            report("public submissions/s, scheduler passes back to back", f"{with_scheduler:.1f}")
            worked = [p for p in passes if p is not None]
            if worked:
                mean = sum(p.seconds for p in worked) / len(worked)
                escalated = sum(p.breached for p in worked)
                report("  passes meanwhile / grievances escalated / mean pass (s)",
                       f"{len(worked)} / {escalated:,} / {mean:.2f}")  # fmt: skip

            if not args.skip_worst:
                clock.advance(days=31)
                finished = asyncio.Event()

                async def worst_pass():
                    try:
                        return await scheduler.run_pass()
                    finally:
                        finished.set()

                worst_task = asyncio.create_task(worst_pass())
                during = await submissions_per_second(gateway, 0, until=finished)
                worst = await worst_task
                report(f"pass, every one due: {worst.breached:,} escalated (s)",
                       f"{worst.seconds:.2f}")  # fmt: skip
                report("  grievances escalated per second",
                       f"{worst.breached / worst.seconds:,.0f}")  # fmt: skip
                report("public submissions/s during that pass", f"{during:.1f}")
                report("outbox rows the relay has still to publish",
                       f"{await outbox_backlog(url):,}")  # fmt: skip
                # The relay runs in the service process: what publishing a backlog costs
                # submissions, with no pass running.
                draining = await submissions_per_second(gateway, args.seconds)
                report("public submissions/s after it, the relay publishing that backlog",
                       f"{draining:.1f}")  # fmt: skip
    finally:
        process.terminate()
        process.wait(10)
        await database.dispose()

    print()
    print(f"{'what':<62}{'value':>20}{'load':>7}")
    for what, value, load_average in rows:
        print(f"{what:<62}{value:>20}{load_average:>7}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--grievances", type=int, default=1_000_000)
    parser.add_argument("--due-share", type=float, default=0.01)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--batch-size", type=int, default=Settings.model_fields["sla_batch_size"].default
    )
    parser.add_argument("--skip-worst", action="store_true", help="no pass with every one due")
    parser.add_argument(
        "--server-setting",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a reload-level setting of the bench's own PostgreSQL, e.g. max_wal_size=8GB",
    )
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
        args.own_server = postgres is not None
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
