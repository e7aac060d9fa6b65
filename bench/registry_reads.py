"""Registry reads at the national volume: lookup by household code, the verification query and
a fuzzy name search in one district, with 8 concurrent clients.

    python -m bench.registry_reads [--households 4000000] [--reuse] [--duration 15]
                                   [--clients 8] [--workers 1] [--no-gateway]
                                   [--aiohttp-client] [--only lookup] [--no-baseline]
                                   [--profile DIR]

Loads synthetic households (bench/registry_synthetic.py's: real village codes from the
gazetteer, Khmer and Latin names, plausible ages and relationships, IDPoor levels in realistic
shares; plus, from here, household statuses and, for poor households, enrolments with benefit
records) into an embedded PostgreSQL under .local/bench-registry with binary
COPY, after dropping the secondary indexes and constraints of the bench database, which it
then rebuilds before VACUUM ANALYZE. `--reuse` keeps a database already loaded with the same
number of households. The registry then runs as a uvicorn process (relay and consumers off)
and closed-loop clients (bench/load_client.py, in this process) call it over HTTP with the
gateway's internal token; with the gateway, the same requests go through it too. Prints a
table; asserts nothing.

The baseline, measured in the same run: the lookup and the verification query are also sent
to a bare asyncpg endpoint (bench/_bare_registry_reads.py, its own uvicorn process with the
registry's server options, one worker, a read pool of the registry's size, against the same
database): a plain ASGI callable running the registry's own statement for each read (national
shape, so the same indexes) without the access-log row, authentication or jurisdiction, and
answering a small orjson body. It is the floor the service is compared with: the same
requests (token included, ignored), the same clients and the same duration. A second table
gives, per query, req/s, p50 and tail for bare, service and gateway, the throughput ratios
service/bare and gateway/service, and each process's CPU per request (with PostgreSQL's
backends and the client's); then the target line "lookup through the gateway >= 0.85 of the
service's own throughput", met or not by the measured ratio. `--no-baseline` skips the bare
endpoint (the target line still prints when the gateway was measured). `--profile DIR` adds,
after the measurements, one more load of each request kind at the service with py-spy
sampling the registry (bench/_profile.py): its CPU by area (FastAPI, asyncpg, the event loop,
the service's own code) and by function.

Targets (issue 4): p99 under 10 ms at the service for the lookup and the verification query,
p95 under 100 ms for the search. The gateway's: the lookup through it at 0.85 of the service's
own throughput or more.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import os
import random
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import asyncpg
import yaml

from bench import load_client
from bench._profile import recording, summarise
from bench.registry_synthetic import HouseholdGenerator
from devstack.postgres import EmbeddedPostgres, create_databases, free_port
from devstack.process import die_with_parent
from gateway.addresses import SERVER_OPTIONS as GATEWAY_SERVER_OPTIONS
from gateway.identity.dev_issuer import DevIssuer
from services.registry.households.codes import format_household_code
from services.registry.imports.parsing import COLUMNS as IMPORT_COLUMNS
from shared.db.engine import asyncpg_dsn
from shared.http.server import SERVER_OPTIONS as PLATFORM_SERVER_OPTIONS
from shared.migrations import upgrade
from shared.principal import INTERNAL_TOKEN_HEADER, InternalTokenSigner, Principal
from shared.settings import DEV_INTERNAL_TOKEN_PRIVATE_KEY
from shared.tiers import Tier

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / ".local" / "bench-registry"
DATABASE = "bench_registry"
REFERENCE = date(2026, 11, 21)
BATCH_HOUSEHOLDS = 20_000
GENERATORS = 2
POSTMASTER_PID: int | None = None  # of the bench cluster, for its CPU use

# ---------------------------------------------------------------------------------------------
# Synthetic households: people from bench/registry_synthetic.py (the import benchmark's
# generator of realistic households), with what a registry adds: ids, household codes,
# statuses, and enrolments with benefit records for poor households.

STATUSES = (
    ("active", 955), ("pending_verification", 20), ("returned", 5), ("moved", 10),
    ("dissolved", 10),
)  # fmt: skip
HOUSEHOLD_COLUMNS = (
    "id", "code", "village_code", "address", "head_member_id", "status", "verified_at",
    "verified_by", "poverty_level", "poverty_score", "poverty_method", "poverty_round",
    "poverty_assessed_on", "poverty_valid_until", "equity_card_number",
    "vulnerability_categories", "created_by", "updated_by",
)  # fmt: skip
MEMBER_COLUMNS = (
    "id", "household_id", "village_code", "family_name_km", "given_name_km",
    "family_name_latin", "given_name_latin", "sex", "birth_date", "birth_date_estimated",
    "relationship", "national_id", "phone", "disability_severity", "disability_card_number",
    "pregnant", "pregnancy_expected_on", "school_enrolment", "status", "created_by",
    "updated_by",
)  # fmt: skip
ENROLMENT_COLUMNS = (
    "id", "programme_code", "household_id", "status", "proposed_by", "decided_at",
    "decided_by", "enrolled_on", "created_by", "updated_by",
)  # fmt: skip
BENEFIT_COLUMNS = (
    "id", "enrolment_id", "period", "period_start", "amount_khr", "in_kind_item", "channel",
    "delivered_on", "status", "created_by", "updated_by",
)  # fmt: skip
FAMILY_PACKAGE_MONTHS = [date(2026, month, 1) for month in range(5, 11)]
AT = {name: index for index, name in enumerate(IMPORT_COLUMNS)}
VERIFIED = frozenset({"active", "moved", "dissolved"})


def _text(row: list[str], column: str) -> str | None:
    return row[AT[column]] or None


def _day(row: list[str], column: str) -> date | None:
    value = row[AT[column]]
    return date.fromisoformat(value) if value else None


def _number(row: list[str], column: str) -> int | None:
    value = row[AT[column]]
    return int(value) if value else None


class SyntheticRegistry:
    """Deterministic (seeded) households with members, enrolments and benefit records."""

    def __init__(self, seed: int = 4) -> None:
        self.seed = seed
        self.random = random.Random(seed)
        self.statuses = ([s for s, _ in STATUSES], [w for _, w in STATUSES])
        self.loaded_at = datetime(2026, 11, 1, tzinfo=UTC)

    def _id(self) -> str:
        # A version-4 UUID as text: text crosses to the COPY process far faster than UUIDs.
        bits = self.random.getrandbits(128) & ~(0xF000 << 64) & ~(0xC000 << 48)
        h = f"{bits | (0x4000 << 64) | (0x8000 << 48):032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def batch(self, first_number: int, count: int):
        """Rows for households numbered first_number .. first_number + count - 1 (the same
        rows for the same numbers, whichever process generates them)."""
        seed = self.seed * 10**12 + first_number
        self.random = rnd = random.Random(seed)
        people = HouseholdGenerator(seed=seed, today=REFERENCE)
        # Its national ID and disability card numbers come from a running serial: start each
        # batch's past the previous batches' (households have fewer than ten members).
        people.people_seen = first_number * 10
        households, members, enrolments, benefits = [], [], [], []
        statuses = rnd.choices(self.statuses[0], weights=self.statuses[1], k=count)
        for index in range(count):
            rows = people.household()
            head = rows[0]
            household_id = self._id()
            member_ids = [self._id() for _ in rows]
            village = head[AT["village_code"]]
            status = statuses[index]
            level = _text(head, "poverty_level") or "UNASSESSED"
            verified = status in VERIFIED
            categories = _text(head, "vulnerability_categories")
            households.append((
                household_id, format_household_code(first_number + index), village,
                head[AT["address"]], member_ids[0], status,
                self.loaded_at if verified else None, "bench" if verified else None,
                level, _number(head, "poverty_score"), _text(head, "poverty_method"),
                _number(head, "poverty_round"), _day(head, "poverty_assessed_on"),
                _day(head, "poverty_valid_until"), _text(head, "equity_card_number"),
                categories.split(";") if categories else [], "bench", "bench",
            ))  # fmt: skip
            for member_id, row in zip(member_ids, rows, strict=True):
                members.append((
                    member_id, household_id, village, row[AT["family_name_km"]],
                    row[AT["given_name_km"]], row[AT["family_name_latin"]],
                    row[AT["given_name_latin"]], row[AT["sex"]], _day(row, "birth_date"),
                    row[AT["birth_date_estimated"]] == "yes", row[AT["relationship"]],
                    _text(row, "national_id"), _text(row, "phone"),
                    _text(row, "disability_severity"), _text(row, "disability_card_number"),
                    row[AT["pregnant"]] == "yes", _day(row, "pregnancy_expected_on"),
                    _text(row, "school_enrolment"),
                    "active" if rnd.random() < 0.99 else "deceased", "bench", "bench",
                ))  # fmt: skip
            if level in ("POOR_1", "POOR_2") and status == "active":
                self._provision(household_id, level, enrolments, benefits)
        return households, members, enrolments, benefits

    def _provision(self, household_id, level, enrolments, benefits) -> None:
        rnd = self.random
        enrolled_on = date(2025, 6, 1)
        programmes = ["HEALTH_EQUITY_FUND"]
        if rnd.random() < 0.5:
            programmes.append("FAMILY_PACKAGE")
        if level == "POOR_1":
            programmes.append("FOOD_AID")
        for programme in programmes:
            enrolment_id = self._id()
            enrolments.append((
                enrolment_id, programme, household_id, "enrolled", "bench", self.loaded_at,
                "bench", enrolled_on, "bench", "bench",
            ))  # fmt: skip
            if programme == "FAMILY_PACKAGE":
                for start in FAMILY_PACKAGE_MONTHS:
                    outcome = rnd.random()
                    status = (
                        "paid" if outcome < 0.95 else ("failed" if outcome < 0.98 else "returned")
                    )
                    benefits.append((
                        self._id(), enrolment_id, start.strftime("%Y-%m"), start, 80_000, None,
                        "cash_wing", start + timedelta(days=9) if status == "paid" else None,
                        status, "bench", "bench",
                    ))  # fmt: skip
            elif programme == "FOOD_AID":
                for start in (date(2026, 4, 1), date(2026, 7, 1)):
                    benefits.append((
                        self._id(), enrolment_id, start.strftime("%Y-%m"), start, None,
                        "Rice, 50 kg", "in_kind", start + timedelta(days=14), "paid",
                        "bench", "bench",
                    ))  # fmt: skip


_GENERATOR: SyntheticRegistry | None = None


def generate_batch(first_number: int, count: int):
    """In the generator process: one batch of rows."""
    global _GENERATOR
    if _GENERATOR is None:
        _GENERATOR = SyntheticRegistry()
    return _GENERATOR.batch(first_number, count)


# ---------------------------------------------------------------------------------------------
# Loading


LOADED_TABLES = ("household", "member", "enrolment", "benefit_record")


@dataclass
class Rebuild:
    """What the load drops and rebuilds: constraints (PK/unique first, then FKs) and indexes."""

    constraints: list[tuple[str, str, str, str]]  # (table, name, type, definition)
    indexes: list[tuple[str, str]]  # (name, CREATE INDEX statement)


async def existing_tables(conn: asyncpg.Connection) -> list[str]:
    rows = await conn.fetch(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename = ANY($1)",
        list(LOADED_TABLES),
    )
    present = {row["tablename"] for row in rows}
    return [table for table in LOADED_TABLES if table in present]


async def drop_for_load(conn: asyncpg.Connection, tables: list[str]) -> Rebuild:
    """Drop every constraint but CHECK/NOT NULL and every index of the loaded tables, and of
    tables referencing them (their foreign keys), remembering how to rebuild them."""
    constraints = [
        (r["table"], r["name"], r["contype"], r["definition"])
        for r in await conn.fetch(
            "SELECT c.conrelid::regclass::text AS table, c.conname AS name, "
            "c.contype::text AS contype, pg_get_constraintdef(c.oid) AS definition "
            "FROM pg_constraint c WHERE c.contype IN ('p', 'u', 'f') "
            "AND (c.conrelid::regclass::text = ANY($1) OR c.confrelid::regclass::text = ANY($1))",
            tables,
        )
    ]
    indexes = [
        (r["indexname"], r["indexdef"])
        for r in await conn.fetch(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = 'public' "
            "AND i.tablename = ANY($1) AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
            "WHERE c.conindid = (quote_ident(i.indexname))::regclass AND c.contype IN ('p','u'))",
            tables,
        )
    ]
    for table, name, _, _ in sorted(constraints, key=lambda c: c[2] != "f"):  # FKs first
        await conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT IF EXISTS "{name}"')
    for name, _ in indexes:
        await conn.execute(f'DROP INDEX IF EXISTS "{name}"')
    return Rebuild(constraints, indexes)


async def rebuild(dsn: str, plan: Rebuild) -> None:
    """Primary and unique keys, then the secondary indexes two at a time (two cores), then
    the foreign keys (validated in one join each)."""
    conn = await asyncpg.connect(dsn)
    try:
        for table, name, kind, definition in plan.constraints:
            if kind in ("p", "u"):
                await timed(
                    f"constraint {name}",
                    conn.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'),
                )
    finally:
        await conn.close()
    queue = list(plan.indexes)

    async def builder() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute("SET maintenance_work_mem = '1GB'")
            await conn.execute("SET max_parallel_maintenance_workers = 0")
            while queue:
                name, statement = queue.pop(0)
                await timed(f"index {name}", conn.execute(statement))
        finally:
            await conn.close()

    await asyncio.gather(builder(), builder())
    conn = await asyncpg.connect(dsn)
    try:
        for table, name, kind, definition in plan.constraints:
            if kind == "f":
                await timed(
                    f"foreign key {name}",
                    conn.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'),
                )
    finally:
        await conn.close()


async def timed(label: str, work) -> None:
    started = time.perf_counter()
    await work
    print(f"    {label}: {time.perf_counter() - started:.1f} s", flush=True)


async def loaded_households(dsn: str) -> int | None:
    conn = await asyncpg.connect(dsn)
    try:
        exists = await conn.fetchval("SELECT to_regclass('bench_load') IS NOT NULL")
        if not exists:
            return None
        return await conn.fetchval("SELECT households FROM bench_load WHERE complete")
    finally:
        await conn.close()


async def load(dsn: str, households: int) -> dict[str, float]:
    """Generate and COPY `households` households; returns the load's figures."""
    conn = await asyncpg.connect(dsn)
    figures: dict[str, float] = {}
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_load (households int, members bigint, "
            "complete bool, loaded_at timestamptz DEFAULT now())"
        )
        await conn.execute("TRUNCATE bench_load")
        tables = await existing_tables(conn)
        print("==> dropping indexes and constraints of the bench database for the load")
        plan = await drop_for_load(conn, tables)
        # One transaction from TRUNCATE to the last COPY: with wal_level=minimal, PostgreSQL
        # writes the new rows without WAL.
        transaction = conn.transaction()
        await transaction.start()
        await conn.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
        if await conn.fetchval("SELECT to_regclass('member_name') IS NOT NULL"):
            # The names dictionary (migration 0011): its triggers refill it with the COPYs.
            await conn.execute("TRUNCATE member_name")
        counts = dict.fromkeys(tables, 0)
        columns = {
            "household": HOUSEHOLD_COLUMNS,
            "member": MEMBER_COLUMNS,
            "enrolment": ENROLMENT_COLUMNS,
            "benefit_record": BENEFIT_COLUMNS,
        }
        print(f"==> loading {households:,} households with binary COPY")
        started = time.perf_counter()
        done = 0
        loop = asyncio.get_running_loop()
        # Two processes generate the next batches while this one COPYs (generating is the
        # slower half; the second process takes what CPU PostgreSQL leaves).
        with ProcessPoolExecutor(max_workers=GENERATORS) as pool:
            pending: collections.deque = collections.deque()
            next_first = 1

            def submit() -> None:
                nonlocal next_first
                if next_first <= households:
                    count = min(BATCH_HOUSEHOLDS, households - next_first + 1)
                    pending.append(loop.run_in_executor(pool, generate_batch, next_first, count))
                    next_first += count

            for _ in range(GENERATORS):
                submit()
            waited = 0.0
            while done < households:
                began = time.perf_counter()
                rows = await pending.popleft()
                waited += time.perf_counter() - began
                count = len(rows[0])
                submit()
                batch = dict(zip(LOADED_TABLES, rows, strict=True))
                for table in tables:
                    if batch[table]:
                        await conn.copy_records_to_table(
                            table, records=batch[table], columns=columns[table]
                        )
                        counts[table] += len(batch[table])
                done += count
                elapsed = time.perf_counter() - started
                left = (households - done) / done * elapsed
                print(
                    f"\r    {done:>10,}/{households:,} households, {counts['member']:>11,} "
                    f"members ({counts['member'] / elapsed:,.0f} members/s, "
                    f"{left / 60:.1f} min left)   ",
                    end="",
                    flush=True,
                )
        await conn.execute("SELECT setval('household_code_seq', $1)", households)
        await transaction.commit()
        print()
        figures["copy_seconds"] = time.perf_counter() - started
        figures["waited_seconds"] = waited
        for table, n in counts.items():
            figures[f"rows_{table}"] = n
    finally:
        await conn.close()
    print("==> rebuilding constraints and indexes")
    started = time.perf_counter()
    await rebuild(dsn, plan)
    figures["index_seconds"] = time.perf_counter() - started
    print("==> VACUUM ANALYZE")
    started = time.perf_counter()
    conn = await asyncpg.connect(dsn)
    try:
        for table in tables:
            await timed(f"vacuum analyze {table}", conn.execute(f"VACUUM (ANALYZE) {table}"))
        await conn.execute(
            "INSERT INTO bench_load (households, members, complete) VALUES ($1, $2, true)",
            households,
            counts["member"],
        )
    finally:
        await conn.close()
    figures["vacuum_seconds"] = time.perf_counter() - started
    return figures


# ---------------------------------------------------------------------------------------------
# The database


@contextlib.contextmanager
def bench_postgres(*, loading: bool) -> Iterator[str]:
    """The embedded PostgreSQL of this benchmark (its data stays for --reuse). Loading runs
    without fsync and with WAL-less COPY into tables truncated in the same transaction; the
    measurements run with the durable defaults, since every read of a household also commits
    a row to the personal-data access log."""
    url = os.environ.get("BENCH_POSTGRES_URL")
    if url:
        yield url.rstrip("/")
        return
    postgres = EmbeddedPostgres(
        DATA_DIR / "data",
        port=free_port(),
        fast_unsafe=loading,
        log_file=DATA_DIR / "postgres.log",
    )
    postgres.start()
    try:
        if asyncio.run(_tune(postgres.url)):
            postgres.stop()
            postgres.start()
        global POSTMASTER_PID
        POSTMASTER_PID = postgres._process.pid if postgres._process else None
        yield postgres.url
    finally:
        postgres.stop()


async def _tune(server_url: str) -> bool:
    """Settings for the bench cluster only; True when a restart is needed."""
    conn = await asyncpg.connect(asyncpg_dsn(server_url + "/postgres"))
    try:
        restart = await conn.fetchval("SHOW wal_level") != "minimal"
        for name, value in (
            ("wal_level", "minimal"),
            ("max_wal_senders", "0"),
            ("max_wal_size", "16GB"),
            ("checkpoint_timeout", "1h"),
            ("autovacuum", "off"),  # the load ends with its own VACUUM ANALYZE
            ("effective_cache_size", "12GB"),
            ("random_page_cost", "1.1"),
        ):
            await conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
        await conn.execute("SELECT pg_reload_conf()")
        return restart
    finally:
        await conn.close()


def prepare_database(server_url: str, households: int, *, reuse: bool) -> str:
    url = f"{server_url}/{DATABASE}"
    dsn = asyncpg_dsn(url)
    if reuse:
        asyncio.run(create_databases(server_url, [DATABASE]))
        upgrade(ROOT / "services" / "registry", url)
        loaded = asyncio.run(loaded_households(dsn))
        if loaded == households:
            print(f"==> reusing {loaded:,} loaded households in {DATA_DIR}")
            return url
        print(f"==> --reuse: the database holds {loaded or 0:,} households, not {households:,}")
    asyncio.run(create_databases(server_url, [DATABASE], recreate=True))
    upgrade(ROOT / "services" / "registry", url)
    figures = asyncio.run(load(dsn, households))
    members = figures["rows_member"]
    print(
        f"    COPY {figures['copy_seconds']:.0f} s ({members / figures['copy_seconds']:,.0f} "
        f"members/s; {figures['waited_seconds']:.0f} s waiting for the generator), indexes "
        f"{figures['index_seconds']:.0f} s, VACUUM ANALYZE {figures['vacuum_seconds']:.0f} s"
    )
    return url


# ---------------------------------------------------------------------------------------------
# The servers


class Servers:
    """The registry (and the gateway) as uvicorn child processes, stopped on exit."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen] = []
        self.pids: dict[str, int] = {}
        self.logs = DATA_DIR / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)

    def start(
        self,
        name: str,
        app: str,
        env: dict[str, str],
        workers: int = 1,
        options: tuple[str, ...] = PLATFORM_SERVER_OPTIONS,
    ) -> str:
        """A uvicorn process as deployed: uvloop and the platform's server options (the
        one-write httptools protocol; the gateway's own options for the gateway)."""
        port = free_port()
        argv = [
            sys.executable, "-m", "uvicorn", app, "--host", HOST, "--port", str(port),
            "--workers", str(workers), "--no-access-log", "--log-level", "warning",
            "--loop", "uvloop", *options,
        ]  # fmt: skip
        with (self.logs / f"{name}.log").open("wb") as log:
            proc = subprocess.Popen(
                argv,
                cwd=ROOT,
                env={**os.environ, "SP_ENVIRONMENT": "development", **env},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent,
            )
        self.procs.append(proc)
        self.pids[name] = proc.pid
        url = f"http://{HOST}:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                tail = (self.logs / f"{name}.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n{tail}")
            try:
                with _OPENER.open(f"{url}/health", timeout=1):
                    print(f"    {name}: pid {proc.pid}, {url}", flush=True)
                    return url
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{name} did not come up on {url}")

    def stop_all(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
HOST = "127.0.0.1"


def bench_policy() -> Path:
    """The real gateway policy with rate classes that never limit the benchmark."""
    policy = yaml.safe_load((ROOT / "gateway" / "policy.yml").read_text())
    policy["rate_classes"] = {
        name: {"per_second": 1_000_000, "burst": 1_000_000} for name in policy["rate_classes"]
    }
    path = DATA_DIR / "policy.yml"
    path.write_text(yaml.safe_dump(policy))
    return path


# ---------------------------------------------------------------------------------------------
# Measuring


@dataclass
class Scenario:
    """One kind of request: the paths to cycle through and who asks."""

    label: str
    paths: list[str]
    principal: Principal
    person: str  # the demo person the gateway run uses (same area)
    tail: int  # the tail percentile reported beside p50 (99 or 95)
    target_ms: float
    baseline: bool = False  # also measured at the bare endpoint (bench/_bare_registry_reads.py)


@dataclass
class Measured:
    label: str
    via: str
    requests: int
    seconds: float
    latencies: list[float]
    errors: dict[int, int]
    tail: int
    target_ms: float
    load: float = 0.0  # the machine's 1-minute load average at the end (2 cores)
    kinds: dict[str, list[float]] = field(default_factory=dict)  # latencies per way of asking
    cpu_ms: dict[str, float] = field(default_factory=dict)  # CPU per request, per process

    def percentile(self, p: float, latencies: list[float] | None = None) -> float:
        ordered = sorted(self.latencies if latencies is None else latencies)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1)]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_of(pid: int) -> list[int]:
    with contextlib.suppress(OSError):
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    return []


def cpu_of(pids: dict[str, int]) -> dict[str, float]:
    """CPU seconds so far of the given processes with their children (uvicorn's workers),
    and of the bench cluster's backends. The client is this process, without children."""
    used = {
        name: cpu_seconds(pid)
        + (0.0 if name == "client" else sum(cpu_seconds(c) for c in children_of(pid)))
        for name, pid in pids.items()
    }
    if POSTMASTER_PID:
        used["postgres"] = sum(cpu_seconds(c) for c in children_of(POSTMASTER_PID))
    return used


def kind_of(path: str) -> str:
    """The way a request asks: its first query parameter (`household_code`, ...)."""
    _, _, query = path.partition("?")
    return query.partition("=")[0] or "path"


async def run_aiohttp_clients(
    base_url: str, headers: dict[str, str], paths: list[str], *, clients: int, seconds: float
) -> tuple[int, float, list[float], dict[str, list[float]], dict[int, int], str]:
    """`clients` closed-loop aiohttp clients, each sending its next request when the last
    returned (--aiohttp-client: how this benchmark measured before bench/load_client.py)."""
    latencies: list[float] = []
    kinds: dict[str, list[float]] = {}
    errors: dict[int, int] = {}
    sample_error = ""
    next_path = iter(range(10**12))
    connector = aiohttp.TCPConnector(limit=clients, force_close=False)
    async with aiohttp.ClientSession(base_url, headers=headers, connector=connector) as session:
        deadline = time.perf_counter() + seconds

        async def client() -> None:
            nonlocal sample_error
            while time.perf_counter() < deadline:
                path = paths[next(next_path) % len(paths)]
                began = time.perf_counter()
                async with session.get(path) as response:
                    body = await response.read()
                took = (time.perf_counter() - began) * 1000
                latencies.append(took)
                kinds.setdefault(kind_of(path), []).append(took)
                if response.status != 200:
                    errors[response.status] = errors.get(response.status, 0) + 1
                    sample_error = sample_error or f"{path}: {body[:300]!r}"

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return len(latencies), elapsed, latencies, kinds, errors, sample_error


def run_clients(
    base_url: str,
    headers: dict[str, str],
    paths: list[str],
    *,
    clients: int,
    seconds: float,
    lean: bool = True,
) -> tuple[int, float, list[float], dict[str, list[float]], dict[int, int], str]:
    """`clients` closed-loop clients for `seconds`: (requests, seconds, latencies, latencies
    per way of asking, non-200 counts, a sample error)."""
    if not lean:
        return asyncio.run(
            run_aiohttp_clients(base_url, headers, paths, clients=clients, seconds=seconds)
        )
    latencies: list[float] = []
    kinds: dict[str, list[float]] = {}
    errors: dict[int, int] = {}
    sample: list[str] = []
    kind_by_index = [kind_of(path) for path in paths]
    for kind in set(kind_by_index):
        kinds[kind] = []

    def on_answer(index: int, took: float, status: int, body: bytes) -> None:
        latencies.append(took)
        kinds[kind_by_index[index]].append(took)
        if status != 200:
            errors[status] = errors.get(status, 0) + 1
            if not sample:
                sample.append(f"{paths[index]}: {body[:300]!r}")

    requests = [load_client.prepare(base_url, path, headers) for path in paths]
    elapsed = load_client.run_closed_loop(
        base_url, requests, clients=clients, seconds=seconds, on_answer=on_answer
    )
    return len(latencies), elapsed, latencies, kinds, errors, (sample or [""])[0]


def measure(
    scenario: Scenario,
    via: str,
    base_url: str,
    headers: dict,
    *,
    clients: int,
    seconds: float,
    pids: dict[str, int],
    lean: bool = True,
) -> Measured:
    print(f"==> {scenario.label} via {via}: warm-up, then {seconds:.0f} s with {clients} clients")
    pids = {**pids, "client": os.getpid()}
    run_clients(base_url, headers, scenario.paths, clients=clients, seconds=2, lean=lean)
    before = cpu_of(pids)
    count, elapsed, latencies, kinds, errors, sample = run_clients(
        base_url, headers, scenario.paths, clients=clients, seconds=seconds, lean=lean
    )
    after = cpu_of(pids)
    cpu_ms = {name: 1000 * (after[name] - before[name]) / max(count, 1) for name in after}
    if errors:
        print(f"    !! non-200 answers {errors}; e.g. {sample}")
    return Measured(
        scenario.label,
        via,
        count,
        elapsed,
        latencies,
        errors,
        scenario.tail,
        scenario.target_ms,
        os.getloadavg()[0],
        kinds if len(kinds) > 1 else {},
        cpu_ms,
    )


async def time_reports(
    base_url: str, district: str, *, runs: int = 3
) -> list[tuple[str, float, int]]:
    """One client, one report at a time: (what, median seconds, rows) for the largest
    district's, its province's and the national report (the reports are not hot paths; this
    shows the GROUP BY queries stay interactive at the national volume)."""
    signer = InternalTokenSigner(DEV_INTERNAL_TOKEN_PRIVATE_KEY, ttl_seconds=3600)
    callers = [
        (f"district {district}", Principal(sub="b", tier=Tier.DMK, admin_code=district)),
        (f"province {district[:2]}", Principal(sub="b", tier=Tier.CP, admin_code=district[:2])),
        ("national", NATIONAL_READER),
    ]
    timings = []
    timeout = aiohttp.ClientTimeout(total=600)
    async with aiohttp.ClientSession(base_url, timeout=timeout) as session:
        for report in ("households", "enrolments"):
            for label, principal in callers:
                headers = {INTERNAL_TOKEN_HEADER: signer.sign(principal, audience="registry")}
                seconds, rows = [], 0
                for _ in range(runs):
                    began = time.perf_counter()
                    async with session.get(f"/reports/{report}", headers=headers) as response:
                        body = await response.json()
                    seconds.append(time.perf_counter() - began)
                    if response.status != 200:
                        raise RuntimeError(f"/reports/{report} answered {response.status}: {body}")
                    rows = (
                        len(body["rows"])
                        if report == "households"
                        else len(body["benefits"]["rows"])
                    )
                timings.append((f"/reports/{report}, {label}", sorted(seconds)[runs // 2], rows))
    return timings


def print_table(
    results: list[Measured],
    *,
    households: int,
    members: int,
    clients: int,
    workers: int,
    lean: bool,
) -> None:
    print()
    print(
        f"registry reads: {households:,} households, {members:,} members, {clients} concurrent "
        f"client(s), {workers} uvicorn worker(s) (2 cores shared with PostgreSQL and the clients)"
    )
    print(
        f"{'request':<52}{'via':<9}{'req/s':>8}{'p50 ms':>8}{'tail':>6}{'ms':>8}"
        f"  {'target':<13}{'errors':>7}{'load':>6}"
    )
    for r in results:
        tail = r.percentile(r.tail)
        verdict = "met" if tail < r.target_ms else "NOT met"
        target = f"<{r.target_ms:.0f} {verdict}" if r.via == "service" else ""
        print(
            f"{r.label:<52}{r.via:<9}{r.requests / r.seconds:>8,.0f}{r.percentile(50):>8.2f}"
            f"{'p' + str(r.tail):>6}{tail:>8.2f}  {target.strip():<13}"
            f"{sum(r.errors.values()):>7}{r.load:>6.1f}"
        )
        for kind, latencies in r.kinds.items():
            print(
                f"{'  by ' + kind:<52}{'':<9}{'':>8}{r.percentile(50, latencies):>8.2f}"
                f"{'p' + str(r.tail):>6}{r.percentile(r.tail, latencies):>8.2f}"
            )
    print()
    print("CPU per request (ms; steadier than latency when other work shares the cores):")
    for r in results:
        used = ", ".join(f"{name} {ms:.2f}" for name, ms in r.cpu_ms.items())
        print(f"  {r.label:<50}{r.via:<9}{used}")
    client = "bench/load_client.py" if lean else "aiohttp"
    print(
        f"latency is measured by the client ({client}, same machine): it includes the "
        "client's own share of the two cores (its CPU per request is shown above), so the "
        "service's own figure is a little lower; load is the machine's 1-minute load average "
        "after the run (above ~2 the cores were shared with other work)."
    )


# Issue target: the gateway's lookup throughput relative to the service's own.
GATEWAY_LOOKUP_TARGET = 0.85


def print_baseline(results: list[Measured]) -> None:
    """Per request with a baseline: bare endpoint, service and gateway side by side, the
    throughput ratios service/bare and gateway/service, and each process's CPU per request;
    then the issue's target for the lookup through the gateway."""
    by = {(r.label, r.via): r for r in results}
    labels = list(dict.fromkeys(r.label for r in results if r.via == "bare"))
    if labels:
        print()
        print(
            "baseline: the same requests, clients and duration against a bare asyncpg endpoint "
            "(bench/_bare_registry_reads.py: plain ASGI on uvicorn, the registry's statement "
            "without the access-log row, no auth, no jurisdiction, small orjson body)"
        )
        print(
            f"{'request':<52}{'via':<9}{'req/s':>8}{'p50 ms':>8}{'tail':>6}{'ms':>8}  "
            f"{'ratio (req/s)':<22}CPU ms per request"
        )
    for label in labels:
        bare, service, gateway = (by.get((label, via)) for via in ("bare", "service", "gateway"))
        for r, ratio in (
            (bare, ""),
            (service, f"service/bare {_ratio(service, bare)}"),
            (gateway, f"gateway/service {_ratio(gateway, service)}"),
        ):
            if r is None:
                continue
            used = ", ".join(f"{name} {ms:.2f}" for name, ms in r.cpu_ms.items())
            print(
                f"{label if r is bare else '':<52}{r.via:<9}{r.requests / r.seconds:>8,.0f}"
                f"{r.percentile(50):>8.2f}{'p' + str(r.tail):>6}{r.percentile(r.tail):>8.2f}  "
                f"{ratio:<22}{used}"
            )
    lookups = [r for r in results if r.label.startswith("lookup")]
    service = next((r for r in lookups if r.via == "service"), None)
    gateway = next((r for r in lookups if r.via == "gateway"), None)
    if service and gateway:
        ratio = (gateway.requests / gateway.seconds) / (service.requests / service.seconds)
        verdict = "met" if ratio >= GATEWAY_LOOKUP_TARGET else "NOT met"
        print()
        print(
            f"target: lookup through the gateway >= {GATEWAY_LOOKUP_TARGET} of the service's own "
            f"throughput: {ratio:.2f} -> {verdict}"
        )


def _ratio(a: Measured | None, b: Measured | None) -> str:
    if a is None or b is None or not b.requests:
        return "-"
    return f"{(a.requests / a.seconds) / (b.requests / b.seconds):.2f}"


# ---------------------------------------------------------------------------------------------
# The requests


NATIONAL_READER = Principal(
    sub="bench-national", tier=Tier.NATIONAL, admin_code="", roles=frozenset({"viewer"})
)


async def sample_requests(dsn: str) -> tuple[list[Scenario], dict[str, int]]:
    """Real keys from the loaded data: codes of active households, enrolled households for the
    verification query, and names in the district with the most members for the search."""
    conn = await asyncpg.connect(dsn)
    try:
        sizes = {
            "households": await conn.fetchval("SELECT households FROM bench_load"),
            "members": await conn.fetchval("SELECT members FROM bench_load"),
        }
        codes = [
            r["code"]
            for r in await conn.fetch(
                "SELECT code FROM household TABLESAMPLE SYSTEM (1) REPEATABLE (7) "
                "WHERE status = 'active' LIMIT 20000"
            )
        ]
        # The verification query, each way it can be asked, for poor households (enrolled,
        # with benefit records) and others alike.
        verified = await conn.fetch(
            "SELECT h.code, m.national_id, m.family_name_latin, m.given_name_latin, "
            "m.family_name_km, m.given_name_km, m.birth_date "
            "FROM household h TABLESAMPLE SYSTEM (1) REPEATABLE (11) "
            "JOIN member m ON m.id = h.head_member_id WHERE h.status = 'active' LIMIT 8000"
        )
        district = await conn.fetchval(
            "SELECT left(village_code, 4) FROM household GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
        )
        sizes["district"] = district
        sizes["district_members"] = await conn.fetchval(
            "SELECT count(*) FROM member WHERE village_code LIKE $1", district + "%"
        )
        names = await conn.fetch(
            "SELECT family_name_km, given_name_km, family_name_latin, given_name_latin "
            "FROM member WHERE village_code LIKE $1 ORDER BY random() LIMIT 1000",
            district + "%",
        )
    finally:
        await conn.close()
    rnd = random.Random(7)
    rnd.shuffle(codes)
    verifications = []
    for index, row in enumerate(verified):
        way = index % 4
        if way == 0 or (way == 1 and not row["national_id"]):
            params = {"household_code": row["code"]}
        elif way == 1:
            params = {"national_id": row["national_id"]}
        elif way == 2:
            params = {
                "family_name_latin": row["family_name_latin"],
                "given_name_latin": row["given_name_latin"],
                "birth_date": row["birth_date"].isoformat(),
            }
        else:
            params = {
                "family_name_km": row["family_name_km"],
                "given_name_km": row["given_name_km"],
                "birth_date": row["birth_date"].isoformat(),
            }
        verifications.append(f"/verification?{urlencode(params)}")
    searches = []
    for index, name in enumerate(names):
        if index % 2:
            given = name["given_name_km"]
            query = f"{name['family_name_km']} {given}"
        else:
            given = name["given_name_latin"].lower()
            query = f"{name['family_name_latin'].lower()} {given}"
        if rnd.random() < 0.5 and len(given) > 3:  # a typo: one letter of the given name lost
            cut = rnd.randrange(1, len(given))
            query = query[: len(query) - len(given)] + given[:cut] + given[cut + 1 :]
        searches.append(f"/members/search?{urlencode({'district': district, 'q': query})}")
    scenarios = [
        Scenario(
            "lookup by household code",
            [f"/households/by-code/{code}" for code in codes],
            NATIONAL_READER,
            "national.officer",
            99,
            10.0,
            baseline=True,
        ),
        Scenario(
            "verification (code, national ID, names + birth)",
            verifications,
            NATIONAL_READER,
            "national.officer",
            99,
            10.0,
            baseline=True,
        ),
        Scenario(
            f"fuzzy name search, district {district} (km/latin)",
            searches,
            Principal(
                sub="bench-dmk",
                tier=Tier.DMK,
                admin_code=district,
                roles=frozenset({"viewer", "registry.verifier"}),
            ),
            "national.officer",
            95,
            100.0,
        ),
    ]
    return scenarios, sizes


def run_benchmark(
    database_url: str,
    *,
    clients: int,
    seconds: float,
    workers: int,
    gateway: bool,
    reports: bool = True,
    only: str = "",
    lean: bool = True,
    baseline: bool = True,
    profile: Path | None = None,
) -> None:
    scenarios, sizes = asyncio.run(sample_requests(asyncpg_dsn(database_url)))
    scenarios = [s for s in scenarios if only in s.label]
    servers = Servers()
    results: list[Measured] = []
    report_timings: list[tuple[str, float, int]] = []
    profiles: list[str] = []
    try:
        print(f"==> starting the registry ({workers} uvicorn worker(s), relay and consumers off)")
        pool_size = max(clients, 10)  # the registry's read pool, and the bare endpoint's
        service_url = servers.start(
            "registry",
            "services.registry.main:app",
            {
                "REGISTRY_DATABASE_URL": database_url,
                "REGISTRY_DATABASE_POOL_SIZE": str(pool_size),
                "REGISTRY_RELAY_ENABLED": "false",
                "REGISTRY_CONSUMERS_ENABLED": "false",
                "REGISTRY_LOG_JSON": "true",
                "REGISTRY_LOG_LEVEL": "WARNING",
            },
            workers=workers,
        )
        gateway_url = issuer = None
        if gateway:
            issuer_url = f"http://{HOST}:8000/dev/idp"
            issuer = DevIssuer(issuer_url, "sp-platform")
            gateway_url = servers.start(
                "gateway",
                "gateway.main:app",
                {
                    "GATEWAY_REGISTRY_URL": service_url,
                    "GATEWAY_DEV_ISSUER_ENABLED": "true",
                    "GATEWAY_DEV_ISSUER_URL": issuer_url,
                    "GATEWAY_POLICY_FILE": str(bench_policy()),
                    "GATEWAY_LOG_JSON": "true",
                    "GATEWAY_LOG_LEVEL": "WARNING",
                },
                options=GATEWAY_SERVER_OPTIONS,
            )
        bare_url = None
        if baseline and any(s.baseline for s in scenarios):
            print("==> starting the bare asyncpg endpoint (the baseline; 1 uvicorn worker)")
            bare_url = servers.start(
                "bare",
                "bench._bare_registry_reads:app",
                {"BENCH_BARE_DATABASE_URL": database_url, "BENCH_BARE_POOL_SIZE": str(pool_size)},
            )
        signer = InternalTokenSigner(DEV_INTERNAL_TOKEN_PRIVATE_KEY, ttl_seconds=3600)
        for scenario in scenarios:
            token = signer.sign(scenario.principal, audience="registry")
            if bare_url and scenario.baseline:
                # The same request bytes as the service's (the token is sent and ignored).
                results.append(
                    measure(
                        scenario,
                        "bare",
                        bare_url,
                        {INTERNAL_TOKEN_HEADER: token},
                        clients=clients,
                        seconds=seconds,
                        pids={"bare": servers.pids["bare"]},
                        lean=lean,
                    )
                )
            results.append(
                measure(
                    scenario,
                    "service",
                    service_url,
                    {INTERNAL_TOKEN_HEADER: token},
                    clients=clients,
                    seconds=seconds,
                    pids={"registry": servers.pids["registry"]},
                    lean=lean,
                )
            )
            if gateway_url and issuer:
                bearer = issuer.person_token(scenario.person, ttl=3600)
                results.append(
                    measure(
                        Scenario(
                            scenario.label,
                            [f"/registry{path}" for path in scenario.paths],
                            scenario.principal,
                            scenario.person,
                            scenario.tail,
                            scenario.target_ms,
                        ),
                        "gateway",
                        gateway_url,
                        {"Authorization": f"Bearer {bearer}"},
                        clients=clients,
                        seconds=seconds,
                        pids={name: pid for name, pid in servers.pids.items() if name != "bare"},
                        lean=lean,
                    )
                )
        if reports:
            print("==> reports, one at a time (median of 3)")
            report_timings = asyncio.run(time_reports(service_url, sizes["district"]))
        if profile is not None:
            profiles = [
                profile_registry(
                    scenario,
                    service_url,
                    {INTERNAL_TOKEN_HEADER: signer.sign(scenario.principal, audience="registry")},
                    servers.pids["registry"],
                    profile,
                    clients=clients,
                    seconds=seconds,
                    lean=lean,
                )
                for scenario in scenarios
            ]
    finally:
        servers.stop_all()
    print_table(
        results,
        households=sizes["households"],
        members=sizes["members"],
        clients=clients,
        workers=workers,
        lean=lean,
    )
    print_baseline(results)
    if reports:
        print()
        print(f"{'report (one client, via the service)':<52}{'seconds':>9}{'rows':>7}")
        for label, seconds, rows in report_timings:
            print(f"{label:<52}{seconds:>9.2f}{rows:>7}")
    if profile is not None:
        for text in profiles:
            print()
            print(text)


def profile_registry(
    scenario: Scenario,
    service_url: str,
    headers: dict,
    pid: int,
    out: Path,
    *,
    clients: int,
    seconds: float,
    lean: bool,
) -> str:
    """One more load of `scenario` at the service, with py-spy sampling the registry process
    (bench/_profile.py): where its CPU per request goes. Run after the measurements, so the
    profiler never touches the figures above."""
    name = "".join(c if c.isalnum() else "-" for c in scenario.label.split(" (")[0]).strip("-")
    raw = out / f"registry-{name}.collapsed.txt"
    print(f"==> profiling the registry under {scenario.label} ({seconds:.0f} s) -> {raw}")
    run_clients(service_url, headers, scenario.paths, clients=clients, seconds=2, lean=lean)
    with recording(pid, raw, seconds=seconds):
        count, elapsed, *_ = run_clients(
            service_url, headers, scenario.paths, clients=clients, seconds=seconds, lean=lean
        )
    return (
        f"where the registry's CPU goes: {scenario.label} at the service "
        f"({count / elapsed:,.0f} req/s under the profiler)\n" + summarise(raw, process="registry")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=4_000_000)
    parser.add_argument("--reuse", action="store_true", help="keep an already loaded database")
    parser.add_argument("--load-only", action="store_true", help="load, then stop")
    parser.add_argument("--duration", type=float, default=15, help="seconds per measurement")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers of the registry")
    parser.add_argument("--no-gateway", action="store_true", help="measure at the service only")
    parser.add_argument("--no-reports", action="store_true", help="skip the report timings")
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="after the measurements, one more load of each request kind at the service under "
        "py-spy (needs `pip install py-spy` and ptrace rights): where the registry's CPU goes",
    )
    parser.add_argument(
        "--no-baseline",
        action="store_true",
        help="skip the bare asyncpg endpoint (bench/_bare_registry_reads.py) the lookup and the "
        "verification query are compared with",
    )
    parser.add_argument(
        "--aiohttp-client",
        action="store_true",
        help="measure with aiohttp clients (about 0.3 ms of CPU a request more than the lean "
        "client, taken from the same two cores)",
    )
    parser.add_argument(
        "--only", default="", help="measure only requests whose label contains this (e.g. lookup)"
    )
    args = parser.parse_args()
    with bench_postgres(loading=True) as server_url:
        prepare_database(server_url, args.households, reuse=args.reuse)
    if args.load_only:
        return
    with bench_postgres(loading=False) as server_url:
        run_benchmark(
            f"{server_url}/{DATABASE}",
            clients=args.clients,
            seconds=args.duration,
            workers=args.workers,
            gateway=not args.no_gateway,
            reports=not args.no_reports,
            only=args.only,
            lean=not args.aiohttp_client,
            baseline=not args.no_baseline,
            profile=args.profile,
        )


if __name__ == "__main__":
    main()
