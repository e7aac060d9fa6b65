"""Registry import throughput: a synthetic CSV through the importer, beside a raw COPY.

    python -m bench.registry_import [--members 1000000] [--batch 10000]

Generates the file with bench.registry_synthetic (cached in .local/bench-import), starts its
own embedded PostgreSQL (.local/bench-import/postgres, durable settings) unless
BENCH_POSTGRES_URL is given, migrates a fresh database and runs the importer's service code
(store the upload, validate, commit; as a national officer; without the duplicates
review-queue flagging unless --flag-duplicates) measuring members per second and
the peak RSS of this process. Then it COPYs the same member rows, binary, into an indexed
copy of the member table (`LIKE member INCLUDING ALL`: exactly the member table's indexes,
listed in the output; not its foreign key to household, which the importer pays) and into
an unindexed one, with the server's default session settings, and prints both rates and
their ratio.

The machine has 2 cores, often shared with other work: each phase prints the 1-minute load
average, and (with the benchmark's own PostgreSQL) the CPU seconds the server and this
process spent on it, which depend much less on the load than the wall-clock times do.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import threading
import time
import uuid
from pathlib import Path

import asyncpg
import psutil

from bench.registry_synthetic import write_csv
from devstack.postgres import EmbeddedPostgres, create_databases, free_port
from services.registry.imports import service
from shared.db.engine import Database, asyncpg_dsn
from shared.migrations import upgrade
from shared.principal import Principal
from shared.tiers import Tier

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".local" / "bench-import"
OFFICER = Principal(
    sub="bench", name="Benchmark", tier=Tier.NATIONAL, roles=frozenset({"registry.officer"})
)
# The member table's writable columns (the generated ones are computed by PostgreSQL).
MEMBER_COLUMNS = (
    "id, version, household_id, village_code, family_name_km, given_name_km, "
    "family_name_latin, given_name_latin, sex, birth_date, birth_date_estimated, relationship, "
    "national_id, phone, disability_severity, disability_card_number, pregnant, "
    "pregnancy_expected_on, school_enrolment, status, status_reason, created_at, created_by, "
    "updated_at, updated_by"
)


class PeakMemory:
    """Samples this process's RSS every 50 ms in a thread."""

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.baseline = self.process.memory_info().rss
        self.peak = self.baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def load_average() -> float:
    return os.getloadavg()[0]


class CpuClock:
    """CPU seconds of this process and of a PostgreSQL server (postmaster pid, or None when
    the server is not ours): its live processes plus the ones that already exited."""

    def __init__(self, postmaster_pid: int | None) -> None:
        self.me = psutil.Process()
        self.server = psutil.Process(postmaster_pid) if postmaster_pid else None

    def read(self) -> tuple[float, float | None]:
        own = self.me.cpu_times()
        if self.server is None:
            return own.user + own.system, None
        times = self.server.cpu_times()
        total = times.user + times.system + times.children_user + times.children_system
        for child in self.server.children(recursive=True):
            with contextlib.suppress(psutil.NoSuchProcess):
                c = child.cpu_times()
                total += c.user + c.system
        return own.user + own.system, total

    def since(self, mark: tuple[float, float | None]) -> tuple[float, float | None]:
        time.sleep(0.5)  # until the postmaster has reaped the connections just closed
        now = self.read()
        server = None if now[1] is None or mark[1] is None else now[1] - mark[1]
        return now[0] - mark[0], server


def show(stage: str, done: int, total: int | None) -> None:
    suffix = f"/{total:,}" if total is not None else ""
    print(f"\r  {stage:<11} {done:>10,}{suffix}        ", end="", flush=True)


async def import_file(
    url: str, path: Path, batch: int, flag_duplicates: bool, cpu: CpuClock
) -> dict:
    database = Database(url)
    times: dict = {}
    cpus: dict = {}
    loads: dict = {}
    try:
        started = time.perf_counter()
        cpu_start = cpu.read()
        file = await asyncio.to_thread(path.open, "rb")
        try:
            async with database.transaction() as session:
                created = await service.start_import(
                    session, principal=OFFICER, file_name=path.name, file=file
                )
        finally:
            file.close()
        import_id = created.id
        times["store"] = time.perf_counter() - started
        cpus["store"] = cpu.since(cpu_start)
        loads["store"] = load_average()
        mark, cpu_mark = time.perf_counter(), cpu.read()
        await service.validate_import(database, import_id, progress=show)
        times["validate"] = time.perf_counter() - mark
        cpus["validate"] = cpu.since(cpu_mark)
        loads["validate"] = load_average()
        print()
        mark, cpu_mark = time.perf_counter(), cpu.read()
        async with database.transaction() as session:
            await service.request_commit(session, principal=OFFICER, import_id=import_id)
        await service.commit_import(
            database,
            import_id,
            batch_households=batch,
            progress=show,
            flag_duplicates=flag_duplicates,
        )
        times["commit"] = time.perf_counter() - mark
        cpus["commit"] = cpu.since(cpu_mark)
        loads["commit"] = load_average()
        times["total"] = time.perf_counter() - started
        cpus["total"] = cpu.since(cpu_start)
        loads["total"] = load_average()
        print()
    finally:
        await database.dispose()
    return {"import_id": import_id, "times": times, "cpus": cpus, "loads": loads}


async def _copy_progress(url: str, rows: int) -> None:
    """The running COPY's progress (pg_stat_progress_copy), polled from a second connection."""
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        while True:
            done = await connection.fetchval(
                "SELECT max(tuples_processed) FROM pg_stat_progress_copy"
            )
            if done:
                show("raw COPY", done, rows)
            await asyncio.sleep(0.5)
    finally:
        await connection.close()


async def raw_copy(url: str, cpu: CpuClock) -> dict:
    """The imported member rows, exported binary, then COPYed into copies of the table."""
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        buffer = io.BytesIO()
        await connection.copy_from_query(
            f"SELECT {MEMBER_COLUMNS} FROM member", output=buffer, format="binary"
        )
        rows = await connection.fetchval("SELECT count(*) FROM member")
        results: dict = {
            "indexes": [
                r[0]
                for r in await connection.fetch(
                    "SELECT indexdef FROM pg_indexes WHERE tablename = 'member' ORDER BY 1"
                )
            ]
        }
        for name, like in (
            ("indexed", "INCLUDING ALL"),
            ("unindexed", "INCLUDING DEFAULTS INCLUDING GENERATED"),
        ):
            table = f"bench_member_{name}"
            await connection.execute(f"DROP TABLE IF EXISTS {table}")
            await connection.execute(f"CREATE TABLE {table} (LIKE member {like})")
            await connection.execute("CHECKPOINT")
            buffer.seek(0)
            progress = asyncio.create_task(_copy_progress(url, rows))
            started, cpu_mark = time.perf_counter(), cpu.read()
            try:
                await connection.copy_to_table(
                    table,
                    source=buffer,
                    columns=[c.strip() for c in MEMBER_COLUMNS.split(",")],
                    format="binary",
                )
            finally:
                progress.cancel()
                with contextlib.suppress(BaseException):
                    await progress
            results[name] = time.perf_counter() - started
            results[f"{name}_cpu"] = cpu.since(cpu_mark)
            results[f"{name}_load"] = load_average()
            print()
            await connection.execute(f"DROP TABLE {table}")
        return {"rows": rows, **results}
    finally:
        await connection.close()


async def run(
    members: int, batch: int, postgres_url: str, flag_duplicates: bool, postmaster: int | None
) -> None:
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / f"households-{members}.csv"
    if not path.exists():
        print(f"generating {path.name} ...", flush=True)
        started = time.perf_counter()
        people = await asyncio.to_thread(write_csv, path, members)
        print(f"  {people:,} members in {time.perf_counter() - started:.1f} s")
    size_mb = path.stat().st_size / 1e6

    name = f"bench_import_{uuid.uuid4().hex[:8]}"
    await create_databases(postgres_url, [name], recreate=True)
    url = f"{postgres_url}/{name}"
    await asyncio.to_thread(upgrade, ROOT / "services" / "registry", url)

    cpu = CpuClock(postmaster)
    print(
        f"importing {path.name} ({size_mb:,.0f} MB), {service.COMMIT_CONNECTIONS} commit "
        f"connection(s); load average {load_average():.2f}"
    )
    with PeakMemory() as memory:
        result = await import_file(url, path, batch, flag_duplicates, cpu)
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        record = await connection.fetchrow(
            "SELECT * FROM household_import WHERE id = $1", result["import_id"]
        )
        events = await connection.fetchval("SELECT count(*) FROM outbox")
    finally:
        await connection.close()
    print("raw COPY of the same rows ...", flush=True)
    copy = await raw_copy(url, cpu)

    committed = record["members_committed"]
    times = result["times"]
    rate = committed / times["total"]
    raw_indexed = copy["rows"] / copy["indexed"]
    raw_plain = copy["rows"] / copy["unindexed"]
    print()
    print(f"rows read {record['rows_read']:,}, households {record['households_committed']:,}, "
          f"members {committed:,}, rows with errors {record['rows_with_errors']:,}, "
          f"warnings {record['warning_count']:,}, outbox events {events:,}")  # fmt: skip
    print()
    print("member table's indexes (also on the indexed copy):")
    for definition in copy["indexes"]:
        print(f"  {definition}")
    print()
    cpus, loads = result["cpus"], result["loads"]
    print(f"{'what':<46}{'seconds':>9}{'rows/s':>10}{'load':>6}{'CPU s: bench':>14}{'server':>8}")
    lines = [
        ("importer: store the upload", "store", times, cpus, loads, committed),
        ("importer: validate (parse, checks, staging)", "validate", times, cpus, loads, committed),
        ("importer: commit (households, members, ...)", "commit", times, cpus, loads, committed),
        ("importer end to end", "total", times, cpus, loads, committed),
    ]
    for label, key, seconds, cpu_s, load, rows in lines:
        own, server = cpu_s[key]
        print(f"{label:<46}{seconds[key]:>9.2f}{rows / seconds[key]:>10,.0f}{load[key]:>6.1f}"
              f"{own:>14.1f}{'' if server is None else f'{server:.1f}':>8}")  # fmt: skip
    for label, key in (
        ("raw COPY into member copy with its indexes", "indexed"),
        ("raw COPY into member copy without indexes", "unindexed"),
    ):
        own, server = copy[f"{key}_cpu"]
        print(f"{label:<46}{copy[key]:>9.2f}{copy['rows'] / copy[key]:>10,.0f}"
              f"{copy[f'{key}_load']:>6.1f}{own:>14.1f}"
              f"{'' if server is None else f'{server:.1f}':>8}")  # fmt: skip
    print()
    print(f"importer / raw COPY (indexed): {rate / raw_indexed:.0%}   "
          f"importer / raw COPY (no indexes): {rate / raw_plain:.0%}")  # fmt: skip
    print(f"peak RSS of the importing process: {memory.peak / 2**20:,.0f} MB "
          f"(baseline {memory.baseline / 2**20:,.0f} MB)")  # fmt: skip
    if not flag_duplicates:
        print("(duplicates review-queue flagging off; --flag-duplicates to include it)")
    target = "met" if rate >= 50_000 and rate >= 0.25 * raw_indexed else "NOT met"
    print(f"target (>= 50,000 members/s and >= 25 % of raw COPY): {target}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=service.COMMIT_BATCH_HOUSEHOLDS)
    parser.add_argument(
        "--commit-connections",
        type=int,
        default=service.COMMIT_CONNECTIONS,
        help="batches committed at the same time, each on its own connection",
    )
    parser.add_argument(
        "--flag-duplicates",
        action="store_true",
        help="also run the duplicates review queue's flagging per batch (slow at this size)",
    )
    args = parser.parse_args()
    service.COMMIT_CONNECTIONS = args.commit_connections
    postgres = None
    postgres_url = os.environ.get("BENCH_POSTGRES_URL")
    try:
        if not postgres_url:
            postgres = EmbeddedPostgres(WORK / "postgres" / "data", port=free_port())
            postgres.start()
            postgres_url = postgres.url
        postmaster = postgres._process.pid if postgres and postgres._process else None
        if postmaster is None and os.environ.get("BENCH_POSTMASTER_PID"):
            postmaster = int(os.environ["BENCH_POSTMASTER_PID"])  # a server of this machine
        asyncio.run(run(args.members, args.batch, postgres_url, args.flag_duplicates, postmaster))
    finally:
        if postgres:
            postgres.stop()


if __name__ == "__main__":
    main()
