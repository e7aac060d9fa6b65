"""A PostgreSQL and a broker of the fault tests' own, and the fault-test service as a process.

The session's shared PostgreSQL and broker serve every other test, so nothing here stops them:
each fault test gets a fresh Tansu broker, and the fault tests share one embedded PostgreSQL
they may stop and start (`FaultPostgres`).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import asyncpg
import httpx
import pytest

from devstack.broker import TansuBroker
from devstack.postgres import EmbeddedPostgres, create_databases, free_port
from devstack.process import die_with_parent
from shared.db.engine import Database, asyncpg_dsn
from shared.kafka import TopicWatch
from shared.migrations import upgrade
from shared.outbox import emit
from tests.conftest import add_outbox_revisions
from tests.faults.worker import metadata
from tests.harness import ROOT, wait_for
from tests.shared.sample_events import ThingHappened

LOGS = ROOT / ".local" / f"test-faults-{os.getpid()}"


@pytest.fixture(scope="session")
def fault_postgres() -> Iterator[EmbeddedPostgres]:
    # Durable (fsync on): an immediate shutdown must not lose a commit PostgreSQL confirmed.
    postgres = EmbeddedPostgres(LOGS / "postgres", port=free_port(), log_file=LOGS / "postgres.log")
    postgres.start()
    url = postgres.database_url("faults")
    asyncio.run(create_databases(postgres.url, ["faults"], recreate=True))
    # The platform tables (outbox, inbox, idempotency keys; as tests/conftest.py makes them)
    # and the consumer's table.
    upgrade(ROOT / "services" / "registry", url, revision="0001")
    asyncio.run(add_outbox_revisions(asyncpg_dsn(url)))

    async def create_table() -> None:
        database = Database(url)
        async with database.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        await database.dispose()

    asyncio.run(create_table())
    try:
        yield postgres
    finally:
        postgres.stop()
        if not os.environ.get("SP_KEEP_FAULT_LOGS"):  # set it to read the processes' logs
            shutil.rmtree(LOGS, ignore_errors=True)


@dataclass
class FaultStack:
    """The dedicated broker and PostgreSQL, the fault-test service processes and the test's
    workload: things, each with events n = 0, 1, 2, ... written to the outbox in order."""

    postgres: EmbeddedPostgres
    broker: TansuBroker
    processes: list[subprocess.Popen] = field(default_factory=list)
    written: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    port: int = 0

    @property
    def database_url(self) -> str:
        return self.postgres.database_url("faults")

    @property
    def dsn(self) -> str:
        return asyncpg_dsn(self.database_url)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- the service -----------------------------------------------------------------------

    def start_service(self, **settings: str) -> subprocess.Popen:
        """The fault-test service as a process; waits until it answers /health."""
        self.port = free_port()
        return self.start_process(
            "tests.faults.worker:app", "FAULTTEST", self.database_url, self.port, **settings
        )

    def start_process(
        self, app: str, prefix: str, database_url: str, port: int, **settings: str
    ) -> subprocess.Popen:
        """A service (`services.registry.main:app`, env prefix `REGISTRY`) as a process on
        this stack's broker; waits until it answers /health."""
        env = {
            **os.environ,
            f"{prefix}_DATABASE_URL": database_url,
            "KAFKA_BOOTSTRAP_SERVERS": self.broker.bootstrap_servers,
            f"{prefix}_LOG_JSON": "false",
            f"{prefix}_OUTBOX_POLL_INTERVAL_SECONDS": "0.2",
            "SP_ENVIRONMENT": "test",
            **{f"{prefix}_{k.upper()}": v for k, v in settings.items()},
        }
        log = open(LOGS / f"{prefix.lower()}-{len(self.processes)}.log", "ab")  # noqa: SIM115
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "uvicorn", app),
                *("--host", "127.0.0.1", "--port", str(port), "--no-access-log"),
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )
        log.close()
        self.processes.append(process)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{app} exited with {process.returncode}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    return process
            except httpx.HTTPError:
                time.sleep(0.1)
        raise TimeoutError(f"{app} did not start")

    async def metric(self, name: str, **labels: str) -> float:
        """A sample of the service's /metrics (0 when absent)."""
        async with httpx.AsyncClient(timeout=5) as client:
            text = (await client.get(f"{self.url}/metrics")).text
        total = 0.0
        for line in text.splitlines():
            if not line.startswith(name + "{") and not line.startswith(name + " "):
                continue
            if all(f'{k}="{v}"' in line for k, v in labels.items()):
                total += float(line.rsplit(" ", 1)[1])
        return total

    # -- the workload ----------------------------------------------------------------------

    async def write(self, things: list[str], rounds: int = 1) -> None:
        """The next `rounds` events of each thing, each in its own committed transaction."""
        database = Database(self.database_url)
        try:
            for _ in range(rounds):
                for thing in things:
                    async with database.transaction() as session:
                        await emit(
                            session,
                            ThingHappened(thing_id=thing, n=self.written[thing]),
                            subject=thing,
                            jurisdiction="120801",
                        )
                    self.written[thing] += 1
        finally:
            await database.dispose()

    async def applied(self) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(self.dsn)
        try:
            return await conn.fetch("SELECT event_id, thing_id, n FROM fault_applied ORDER BY id")
        finally:
            await conn.close()

    async def wait_all_applied(self, timeout: float = 90.0) -> list[asyncpg.Record]:
        expected = sum(self.written.values())

        async def done() -> list[asyncpg.Record] | None:
            try:
                rows = await self.applied()
            except (OSError, asyncpg.PostgresError):
                return None
            return rows if len(rows) >= expected else None

        await wait_for(done, timeout=timeout, interval=0.5)
        await asyncio.sleep(2)  # a duplicate arriving late would show now
        return await self.applied()

    async def assert_same_as_fault_free(self) -> None:
        """Nothing lost, nothing applied twice, each thing's events applied in order: the
        table is exactly the one a fault-free run of this workload leaves."""
        rows = await self.wait_all_applied()
        ids = Counter(r["event_id"] for r in rows)
        assert [i for i, c in ids.items() if c > 1] == [], "an event was applied twice"
        per_thing: dict[str, list[int]] = defaultdict(list)
        for row in rows:
            per_thing[row["thing_id"]].append(row["n"])
        fault_free = {thing: list(range(count)) for thing, count in self.written.items()}
        assert dict(per_thing) == fault_free
        conn = await asyncpg.connect(self.dsn)
        try:
            unpublished = await conn.fetchval(
                "SELECT count(*) FROM outbox WHERE published_at IS NULL"
            )
        finally:
            await conn.close()
        assert unpublished == 0

    async def dead_letters(self) -> int:
        """Messages on the consumer's dead-letter topic."""
        topic = f"{ThingHappened.topic()}.dlq.platformtest.faults"
        watch = TopicWatch(self.broker.bootstrap_servers)
        try:
            partitions = await watch.partitions()
            if topic not in partitions:
                return 0
            return sum((await watch.end_offsets({topic: partitions[topic]})).values())
        finally:
            await watch.close()

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


@pytest.fixture(scope="session")
def service_databases(fault_postgres: EmbeddedPostgres) -> dict[str, str]:
    """The registry's and the grievance service's databases on the fault tests' PostgreSQL."""
    from tests.conftest import snapshot_reference_rows

    urls = {s: fault_postgres.database_url(f"fault_{s}") for s in ("registry", "grievance")}
    asyncio.run(create_databases(fault_postgres.url, [f"fault_{s}" for s in urls], recreate=True))
    for service, url in urls.items():
        upgrade(ROOT / "services" / service, url)
        asyncio.run(snapshot_reference_rows(asyncpg_dsn(url)))
    return urls


async def _clean(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("TRUNCATE outbox, inbox, fault_applied RESTART IDENTITY")
    finally:
        await conn.close()


@pytest.fixture
async def stack(fault_postgres: EmbeddedPostgres) -> AsyncIterator[FaultStack]:
    process = fault_postgres._process
    if process is None or process.poll() is not None:  # a failed test left it stopped
        fault_postgres.start()
    broker = TansuBroker(port=free_port(), log_file=LOGS / "broker.log")
    broker.start()
    faults = FaultStack(fault_postgres, broker)
    await _clean(faults.dsn)
    try:
        yield faults
    finally:
        faults.stop()
        broker.resume()
        broker.stop()
