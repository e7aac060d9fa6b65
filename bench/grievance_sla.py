"""Grievance SLA scheduler over a million open grievances, and public submissions meanwhile.

    python -m bench.grievance_sla [--grievances 1000000] [--due-share 0.01] [--seconds 10]
                                  [--batch-size N] [--skip-worst] [--no-baseline]

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
   timeline and outbox rows, in batches) and, before it, its baseline (below), and prints for
   both: grievances escalated, seconds, escalations/s, CPU seconds and CPU microseconds per
   escalation of PostgreSQL (all its processes), of the backend that ran the pass and of this
   process (where the scheduler runs), then the ratios scheduler/baseline;
4. measures submissions again while scheduler passes run back to back (the clock moves one
   hour per pass, so each pass escalates the ~1/720 of the grievances due in that hour);
5. moves the clock 31 days so every open grievance is due and times that worst-case pass
   while submissions go on (submissions/s during the pass), then reports the outbox rows the
   service's relay still has to publish and submissions/s while it publishes them.

The baseline (skipped with `--no-baseline`) is one hand-written statement (`baseline_sql`): a
data-modifying CTE making the pass's writes for every due grievance at once, with no
batches, no advisory lock, no SKIP LOCKED or ctid lookup and no Python in between. Per due
grievance, like `services/grievance/sla/repository.py`: the grievance row moved one tier up
(handling tier and code, tier_entered_at, the next deadline, or none at the national tier,
escalation_count, sla_breach_count, updated_at, version), one timeline entry (`escalated`, or
`sla_breached` at the national tier), and outbox rows `sla_breached` then `escalated` (none at
the national tier) with payloads built by jsonb_build_object with the events' fields and the
same UUIDv7 ids, plus one pg_notify. (Checked once, on two copies of a small database with
every tier and both deadline kinds due: the grievance, timeline and outbox rows come out
identical.) A pass also closes resolved grievances whose reopening period ended: none here,
so the baseline leaves it out and the scheduler's pass pays only for that empty statement.

Fair comparison, two identical loads: right after loading (before anything connects to
it) the database is copied with CREATE DATABASE ... TEMPLATE (STRATEGY FILE_COPY), and the
baseline runs in its own transaction, COMMITTED (so it too waits for its WAL flush), on the
copy, which is then dropped; the scheduler's pass runs on the original. The two hold the same
due grievances: the original has also the grievances submitted in 2., none of them due yet.
Both start warm: the scheduler's pooled connection has done one pass with nothing due and
the baseline's connection has run its statement once with nothing due (each has its
statement prepared and the tables' metadata cached, as in a running service), and the due
rows are read into shared buffers before each. Both escalation counts are printed and no
ratio is printed if they differ. PostgreSQL CPU counts every server process: after each
committed batch the service's relay is notified and starts publishing, server work that the
baseline (on the copy, where no relay listens) does not cause; the pass's own backend is
printed apart for that reason. CPU is read from /proc/PID/schedstat (nanoseconds) and, for
this process, from process_time(). The worst-case pass (5.) has no baseline: submissions run
alongside it in both processes, so its CPU is not the pass's, and grievances submitted
meanwhile become due in its later batches, so its count is not a one-statement snapshot's.

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
import contextlib
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import psutil

from devstack.broker import TansuBroker
from devstack.postgres import EmbeddedPostgres, create_databases, free_port
from services.grievance.config import Settings
from services.grievance.routing import escalation_table
from services.grievance.sla.repository import _UUID_V7
from services.grievance.sla.scheduler import SlaScheduler
from shared.clock import ManualClock
from shared.db.engine import Database, asyncpg_dsn
from shared.db.platform_tables import OUTBOX_CHANNEL
from shared.events.catalog.grievance import GrievanceEscalated, GrievanceSlaBreached
from shared.gazetteer import Level, get_gazetteer
from shared.migrations import upgrade

ROOT = Path(__file__).resolve().parent.parent
CHUNK = 100_000
SCHEDULER_APP = "bench-sla-scheduler"
BASELINE_DB = "bench_grievance_baseline"

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


def _literal(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def baseline_sql() -> str:
    """The baseline: one hand-written statement making the pass's writes for every due
    grievance at once. The routing rules are spliced in as a VALUES list and the event
    names as literals; the old values come from a self-join (`old`, the statement's
    snapshot), since RETURNING sees only the new row before PostgreSQL 18."""
    rules = ",\n        ".join(
        "(" + ", ".join(_literal(v) for v in (r.category, r.from_tier, r.to_tier,
                                              r.code_length, r.acknowledge_hours,
                                              r.resolve_hours)) + ")"
        for r in escalation_table()
    )  # fmt: skip
    return f"""
WITH rules (category, from_tier, to_tier, code_length, ack_hours, resolve_hours) AS (
    VALUES {rules}
),
moved AS (
    UPDATE grievance g SET
        handling_tier = coalesce(r.to_tier, old.handling_tier),
        handling_admin_code = CASE WHEN r.to_tier IS NULL THEN old.handling_admin_code
                                   ELSE left(old.location_code, r.code_length) END,
        tier_entered_at = CASE WHEN r.to_tier IS NULL THEN old.tier_entered_at ELSE $1 END,
        due_at = $1 + CASE old.due_kind WHEN 'acknowledge' THEN r.ack_hours
                                        ELSE r.resolve_hours END * interval '1 hour',
        due_kind = CASE WHEN r.to_tier IS NULL THEN NULL ELSE old.due_kind END,
        escalation_count = old.escalation_count + CAST(r.to_tier IS NOT NULL AS int),
        sla_breach_count = old.sla_breach_count + 1,
        updated_at = $1,
        version = old.version + 1
    FROM grievance old
    JOIN rules r ON r.category = old.category AND r.from_tier = old.handling_tier
    WHERE old.due_at <= $1 AND g.id = old.id
    RETURNING g.id, g.category, g.location_code,
              old.handling_tier AS from_tier, old.handling_admin_code AS from_code,
              old.due_kind AS breached_kind, old.due_at AS breached_due,
              g.handling_tier AS to_tier, g.handling_admin_code AS to_code,
              r.to_tier IS NOT NULL AS escalated
),
timeline AS (
    INSERT INTO grievance_timeline (grievance_id, occurred_at, kind, public, actor, details)
    SELECT m.id, $1, CASE WHEN m.escalated THEN 'escalated' ELSE 'sla_breached' END,
           true, 'system',
           CASE WHEN m.escalated
               THEN jsonb_build_object('automatic', true, 'deadline', m.breached_kind,
                                       'due_at', m.breached_due, 'from_tier', m.from_tier,
                                       'from_admin_code', m.from_code, 'to_tier', m.to_tier,
                                       'to_admin_code', m.to_code)
               ELSE jsonb_build_object('deadline', m.breached_kind, 'due_at', m.breached_due)
           END
    FROM moved m
),
events AS (
    INSERT INTO outbox (id, aggregate_type, aggregate_id, type, topic, dataschema, payload,
                        occurred_at, jurisdiction)
    SELECT {_UUID_V7}, 'grievance', CAST(m.id AS text), e.type,
           {_literal(GrievanceEscalated.topic())}, e.dataschema, e.payload, $1, m.location_code
    FROM moved m CROSS JOIN LATERAL (VALUES
        (1, {_literal(GrievanceSlaBreached.event_type())},
         {_literal(GrievanceSlaBreached.dataschema())},
         jsonb_build_object(
             'grievance_id', m.id, 'category', m.category, 'location_code', m.location_code,
             'handling_admin_code', m.from_code, 'handling_tier', m.from_tier,
             'deadline', m.breached_kind, 'due_at', m.breached_due, 'breached_at', $1)),
        (2, {_literal(GrievanceEscalated.event_type())},
         {_literal(GrievanceEscalated.dataschema())},
         jsonb_build_object(
             'grievance_id', m.id, 'category', m.category, 'location_code', m.location_code,
             'handling_admin_code', m.to_code, 'handling_tier', m.to_tier,
             'automatic', true, 'from_tier', m.from_tier, 'from_admin_code', m.from_code,
             'to_tier', m.to_tier, 'to_admin_code', m.to_code,
             'reason', 'sla_breached:' || m.breached_kind, 'escalated_at', $1))
    ) AS e(n, type, dataschema, payload)
    WHERE e.n = 1 OR m.escalated
    ORDER BY m.id, e.n
)
SELECT count(*) AS breached, count(*) FILTER (WHERE escalated) AS escalated,
       pg_notify('{OUTBOX_CHANNEL}', '') IS NULL AS notified
FROM moved
"""


def _on_cpu(process: psutil.Process) -> float:
    """CPU seconds of a single-threaded process: /proc/PID/schedstat (nanoseconds) where the
    kernel has it, else user + system from psutil (10 ms ticks)."""
    try:
        return int(Path(f"/proc/{process.pid}/schedstat").read_text().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        times = process.cpu_times()
        return times.user + times.system


class ServerCpu:
    """CPU seconds of the PostgreSQL server (the postmaster, its live children and the
    children it already reaped, those in 10 ms ticks) and of single backends; None when the
    server is not on this machine."""

    def __init__(self, backend_pid: int) -> None:
        try:
            self.postmaster: psutil.Process | None = psutil.Process(
                psutil.Process(backend_pid).ppid()
            )
        except psutil.Error:
            self.postmaster = None

    def total(self) -> float | None:
        if self.postmaster is None:
            return None
        times = self.postmaster.cpu_times()
        total = _on_cpu(self.postmaster) + times.children_user + times.children_system
        for child in self.postmaster.children():
            with contextlib.suppress(psutil.NoSuchProcess):
                total += _on_cpu(child)
        return total

    def backends(self, pids) -> dict[int, float]:
        if self.postmaster is None:
            return {}
        seconds = {}
        for pid in pids:
            with contextlib.suppress(psutil.NoSuchProcess):
                seconds[pid] = _on_cpu(psutil.Process(pid))
        return seconds


def own_cpu() -> float:
    return time.process_time()


@dataclass
class Measured:
    """One pass: rows escalated and its wall and CPU seconds (server: all of PostgreSQL;
    backend: the connection(s) that ran the pass; client: this process)."""

    breached: int
    escalated: int
    seconds: float
    server_cpu: float | None
    backend_cpu: float | None
    client_cpu: float


async def _backend_pids(monitor, application_name: str) -> set[int]:
    rows = await monitor.fetch(
        "SELECT pid FROM pg_stat_activity WHERE application_name = $1", application_name
    )
    return {r["pid"] for r in rows}


async def measure_scheduler(scheduler: SlaScheduler, monitor, cpu: ServerCpu) -> Measured:
    """One scheduler pass, with the CPU of the whole server, of the scheduler's pooled
    connection(s) (by application_name) and of this process."""
    pids = await _backend_pids(monitor, SCHEDULER_APP)
    before = cpu.backends(pids)
    server, client = cpu.total(), own_cpu()
    started = time.perf_counter()
    result = await scheduler.run_pass()
    seconds = time.perf_counter() - started
    client = own_cpu() - client
    server_after = cpu.total()
    after = cpu.backends(pids | await _backend_pids(monitor, SCHEDULER_APP))
    return Measured(
        result.breached,
        result.escalated,
        seconds,
        None if server is None or server_after is None else server_after - server,
        sum(after.values()) - sum(before.get(pid, 0.0) for pid in after) if after else None,
        client,
    )


async def _read_due(conn, now: datetime) -> None:
    """Reads the due grievances' rows, so the pass finds them in shared buffers."""
    await conn.fetchval("SELECT sum(length(description)) FROM grievance WHERE due_at <= $1", now)


async def clone(postgres_url: str, source: str, target: str) -> float:
    """CREATE DATABASE target TEMPLATE source (file copy: no WAL for the whole database)."""
    server = await asyncpg.connect(asyncpg_dsn(postgres_url) + "/postgres")
    started = time.perf_counter()
    try:
        await server.execute(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
        strategy = " STRATEGY FILE_COPY" if server.get_server_version().major >= 15 else ""
        await server.execute(f'CREATE DATABASE "{target}" TEMPLATE "{source}"{strategy}')
    finally:
        await server.close()
    return time.perf_counter() - started


async def drop(postgres_url: str, name: str) -> None:
    server = await asyncpg.connect(asyncpg_dsn(postgres_url) + "/postgres")
    try:
        await server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await server.close()


async def measure_baseline(url: str, now: datetime, cpu: ServerCpu) -> Measured:
    """The baseline statement in its own transaction, committed, on the copy of the data."""
    conn = await asyncpg.connect(
        asyncpg_dsn(url), server_settings={"application_name": "bench-sla-baseline"}
    )
    try:
        pid = await conn.fetchval("SELECT pg_backend_pid()")
        sql = baseline_sql()
        # Warm, like the scheduler's connection: the statement run once with nothing due, so
        # it is prepared and the tables' metadata cached on this backend; the due rows read.
        async with conn.transaction():
            await conn.fetchrow(sql, now - timedelta(days=3650))
        await _read_due(conn, now)
        before = cpu.backends([pid])
        server, client = cpu.total(), own_cpu()
        started = time.perf_counter()
        async with conn.transaction():
            row = await conn.fetchrow(sql, now)
        seconds = time.perf_counter() - started
        client = own_cpu() - client
        server_after = cpu.total()
        after = cpu.backends([pid])
    finally:
        await conn.close()
    return Measured(
        row["breached"],
        row["escalated"],
        seconds,
        None if server is None or server_after is None else server_after - server,
        after[pid] - before[pid] if pid in after and pid in before else None,
        client,
    )


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
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return await conn.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
    finally:
        await conn.close()


async def configure_server(postgres_url: str, settings: list[str]) -> None:
    """Reset the bench server's own configuration, then apply `NAME=VALUE` settings (reload-
    level ones such as max_wal_size), so a run without them measures the defaults."""
    conn = await asyncpg.connect(asyncpg_dsn(postgres_url) + "/postgres")
    try:
        await conn.execute("ALTER SYSTEM RESET ALL")
        for setting in settings:
            name, _, value = setting.partition("=")
            await conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
        await conn.execute("SELECT pg_reload_conf()")
    finally:
        await conn.close()


def _per(seconds: float | None, count: int) -> str:
    return "n/a" if seconds is None or not count else f"{seconds * 1e6 / count:,.1f}"


def _ratio(mine: float | None, base: float | None) -> str:
    return "n/a" if mine is None or not base else f"{mine / base:.2f}"


def compare(report, scheduler: Measured, baseline: Measured | None) -> None:
    """Per pass: escalations, seconds, CPU and CPU per escalation of the scheduler and of
    the baseline statement, and the ratio scheduler/baseline (only when both escalated the
    same grievances)."""
    rows = [("scheduler", scheduler)] + ([("baseline", baseline)] if baseline else [])
    for name, m in rows:
        report(f"  {name}: escalated / s / escalations/s",
               f"{m.breached:,} / {m.seconds:.3f} / {m.breached / m.seconds:,.0f}")  # fmt: skip
        report(f"  {name} CPU s: PostgreSQL / pass's backend / bench",
               " / ".join("n/a" if v is None else f"{v:.3f}"
                          for v in (m.server_cpu, m.backend_cpu, m.client_cpu)))  # fmt: skip
        report(f"  {name} CPU us/escalation: PostgreSQL / backend / bench",
               " / ".join(_per(v, m.breached)
                          for v in (m.server_cpu, m.backend_cpu, m.client_cpu)))  # fmt: skip
    if baseline is None:
        return
    if (scheduler.breached, scheduler.escalated) != (baseline.breached, baseline.escalated):
        report("  NO RATIO: scheduler and baseline escalated different counts",
               f"{scheduler.breached:,}/{scheduler.escalated:,} != "
               f"{baseline.breached:,}/{baseline.escalated:,}")  # fmt: skip
        return
    report("  ratio scheduler/baseline: s / CPU PG / backend / bench",
           " / ".join(_ratio(getattr(scheduler, f), getattr(baseline, f))
                      for f in ("seconds", "server_cpu", "backend_cpu", "client_cpu")))  # fmt: skip


async def run(args, postgres_url: str, bootstrap: str) -> None:
    if args.own_server:
        await configure_server(postgres_url, args.server_setting)
    await create_databases(postgres_url, ["bench_grievance"], recreate=True)
    url = f"{postgres_url}/bench_grievance"
    await asyncio.to_thread(upgrade, ROOT / "services" / "grievance", url)
    now = datetime.now(UTC)
    load_seconds = await load(url, args.grievances, args.due_share, now)
    if not args.no_baseline:
        clone_seconds = await clone(postgres_url, "bench_grievance", BASELINE_DB)

    database = Database(url, application_name=SCHEDULER_APP)
    # Warm: one pass with nothing due (the clock ten years back) on the pool's connection,
    # so the measured pass, like every pass of a running service but its first, finds its
    # statements prepared and the tables' metadata cached.
    await SlaScheduler(database, ManualClock(now - timedelta(days=3650))).run_pass()
    monitor = await asyncpg.connect(asyncpg_dsn(url))
    cpu = ServerCpu(await monitor.fetchval("SELECT pg_backend_pid()"))
    clock = ManualClock(now)
    scheduler = SlaScheduler(database, clock, batch_size=args.batch_size)
    rows: list[tuple[str, str, str]] = []

    def report(what: str, value: str) -> None:
        rows.append((what, value, _load_average()))
        print(f"  {what}: {value}", flush=True)

    changed = ", ".join(args.server_setting) or "none" if args.own_server else "(external server)"
    report("PostgreSQL settings changed", changed)
    report(f"load {args.grievances:,} open grievances (s)", f"{load_seconds:.1f}")
    if not args.no_baseline:
        report("copy of it for the baseline (s)", f"{clone_seconds:.1f}")

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

            baseline = None
            if not args.no_baseline:
                baseline = await measure_baseline(f"{postgres_url}/{BASELINE_DB}", now, cpu)
                await drop(postgres_url, BASELINE_DB)
                await asyncio.sleep(0.5)  # the postmaster reaps the connections just closed
            await _read_due(monitor, now)
            typical = await measure_scheduler(scheduler, monitor, cpu)
            report(f"pass, {typical.breached:,} due of {args.grievances:,} (s)",
                   f"{typical.seconds:.2f}")  # fmt: skip
            compare(report, typical, baseline)

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
        await monitor.close()
        await database.dispose()
        if not args.no_baseline:
            await drop(postgres_url, BASELINE_DB)

    print()
    print(f"{'what':<62}{'value':>26}{'load':>7}")
    for what, value, load_average in rows:
        print(f"{what:<62}{value:>26}{load_average:>7}")


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
        "--no-baseline", action="store_true", help="no hand-written one-statement baseline"
    )
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
