"""Session fixtures: real PostgreSQL and a real Kafka-protocol broker, migrated databases."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import asyncpg
import pytest

from devstack.broker import TansuBroker
from devstack.postgres import EmbeddedPostgres, create_databases, free_port
from shared.db import platform_tables
from shared.db.engine import asyncpg_dsn
from shared.migrations import upgrade
from shared.platform import SERVICES
from tests.harness import ROOT, running
from tests.platform import ISSUER_URL, Platform

# A database with only the platform tables, for tests of the platform library itself: no
# service process of the `platform` fixture works in it, so no other relay or consumer
# touches its outbox and inbox while those tests run.
PLATFORM_DB = "platform"


@dataclass
class Infrastructure:
    postgres_url: str  # server URL without a database
    bootstrap_servers: str

    def database_url(self, service: str) -> str:
        return f"{self.postgres_url}/test_{service}"


@pytest.fixture(scope="session")
def infrastructure() -> Iterator[Infrastructure]:
    postgres = broker = None
    postgres_url = os.environ.get("TEST_POSTGRES_URL")
    if not postgres_url:
        # One cluster per pytest process, so several test runs can share the machine.
        scratch = ROOT / ".local" / f"test-postgres-{os.getpid()}"
        postgres = EmbeddedPostgres(
            scratch / "data", port=free_port(), fast_unsafe=True, log_file=scratch / "postgres.log"
        )
        postgres.start()
        postgres_url = postgres.url
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if not bootstrap:
        broker = TansuBroker(
            port=free_port(), log_file=ROOT / ".local" / f"test-broker-{os.getpid()}.log"
        )
        broker.start()
        bootstrap = broker.bootstrap_servers
    infra = Infrastructure(postgres_url.rstrip("/"), bootstrap)
    asyncio.run(
        create_databases(
            infra.postgres_url, [f"test_{s}" for s in (*SERVICES, PLATFORM_DB)], recreate=True
        )
    )
    for service in SERVICES:
        upgrade(ROOT / "services" / service, infra.database_url(service))
    # The platform tables alone (outbox, inbox, idempotency keys): the first revision of any
    # service's migrations creates exactly those; then the outbox's later revisions, which
    # every service's migrations add after its own tables.
    upgrade(ROOT / "services" / "registry", infra.database_url(PLATFORM_DB), revision="0001")
    asyncio.run(add_outbox_revisions(asyncpg_dsn(infra.database_url(PLATFORM_DB))))
    for service in SERVICES:
        asyncio.run(snapshot_reference_rows(asyncpg_dsn(infra.database_url(service))))
    try:
        yield infra
    finally:
        if broker:
            broker.stop()
        if postgres:
            postgres.stop()
            shutil.rmtree(scratch, ignore_errors=True)


async def add_outbox_revisions(dsn: str) -> None:
    columns = ", ".join(
        f"ADD COLUMN {column.name} text" for column in platform_tables._event_lineage_columns()
    )
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f"ALTER TABLE outbox {columns}")
    finally:
        await conn.close()


# Tables whose rows migrations load (reference data such as seed programmes): every clean
# start restores them as the migrations left them, whatever a test added or changed.
REFERENCE_TABLES = frozenset({"alembic_version", "programme"})
_reference_rows: dict[str, dict[str, tuple[list[str], list]]] = {}


async def snapshot_reference_rows(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        tables = await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename = ANY($1::text[]) AND tablename <> 'alembic_version'",
            sorted(REFERENCE_TABLES),
        )
        rows = {}
        for (table,) in tables:
            records = await conn.fetch(f'SELECT * FROM "{table}"')
            columns = [
                c["attname"]
                for c in await conn.fetch(
                    "SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass "
                    "AND attnum > 0 AND NOT attisdropped AND attgenerated = '' ORDER BY attnum",
                    table,
                )
            ]
            rows[table] = (columns, [tuple(r[c] for c in columns) for r in records])
        _reference_rows[dsn] = rows
    finally:
        await conn.close()


async def truncate_all(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        tables = await conn.fetch(
            "SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) AS name "
            "FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
        )
        if not tables:
            return
        names = [t["name"] for t in tables]
        # The outbox keeps numbering where it was: a relay still sending an earlier test's
        # rows marks them published by their numbers, which must never be this test's rows.
        others = [n for n in names if n != "public.outbox"]
        statements = [f"TRUNCATE {', '.join(others)} RESTART IDENTITY CASCADE"] if others else []
        if "public.outbox" in names:
            statements.append("TRUNCATE public.outbox CONTINUE IDENTITY CASCADE")
        # The platform's service processes keep working on these databases (relays, consumers,
        # workers); a TRUNCATE that meets one of their transactions in the other lock order is
        # chosen as the deadlock victim, and trying again once their transaction ends succeeds.
        for attempt in range(5):
            try:
                async with conn.transaction():
                    for statement in statements:
                        await conn.execute(statement)
                    for table, (columns, records) in _reference_rows.get(dsn, {}).items():
                        await conn.copy_records_to_table(table, records=records, columns=columns)
                return
            except asyncpg.exceptions.DeadlockDetectedError:
                if attempt == 4:
                    raise
                await asyncio.sleep(0.2)
    finally:
        await conn.close()


@pytest.fixture
async def clean_databases(infrastructure: Infrastructure) -> None:
    """Every test that asks for it starts from empty service databases."""
    for service in (*SERVICES, PLATFORM_DB):
        await truncate_all(asyncpg_dsn(infrastructure.database_url(service)))


@pytest.fixture(scope="session")
async def platform(infrastructure: Infrastructure) -> AsyncIterator[Platform]:
    """The four services as processes behind an in-process gateway with the real policy."""
    from gateway.config import Settings as GatewaySettings
    from gateway.main import create_app as create_gateway
    from tests.gateway.conftest import start_process, stop_process

    processes, urls = [], {}
    try:
        for service in SERVICES:
            port = free_port()
            prefix = service.upper()
            processes.append(
                start_process(
                    [f"services.{service}.main:app"],
                    {
                        f"{prefix}_DATABASE_URL": infrastructure.database_url(service),
                        "KAFKA_BOOTSTRAP_SERVERS": infrastructure.bootstrap_servers,
                        f"{prefix}_LOG_JSON": "false",
                        f"{prefix}_OUTBOX_POLL_INTERVAL_SECONDS": "0.2",
                        "SP_ENVIRONMENT": "test",
                        # No SLA passes of its own: it runs on the real clock, on the database
                        # the in-process grievance tests fill with grievances dated by their
                        # injected clock (long due by today's date), and a pass landing inside
                        # one of them escalated its grievance under it. The tests that need a
                        # pass run one themselves, with the clock they choose.
                        "GRIEVANCE_SLA_SCHEDULER_ENABLED": "false",
                        # The DCI callback receivers of the tests listen on this machine.
                        "REGISTRY_DCI_CALLBACK_URLS": json.dumps(
                            {"moh-health-equity": ["http://127.0.0.1:*/"]}
                        ),
                        # The demo DCI clients, registered as unsigned.
                        "REGISTRY_DCI_CLIENT_KEYS": json.dumps(
                            {"moh-health-equity": "unsigned", "pp-social-services": "unsigned"}
                        ),
                    },
                    port,
                    "/health",
                )
            )
            urls[service] = f"http://127.0.0.1:{port}"
        settings = GatewaySettings(
            **{f"{name}_url": url for name, url in urls.items()},
            dev_issuer_enabled=True,
            dev_issuer_url=ISSUER_URL,
            log_json=False,
            openapi_cache_seconds=0.0,
        )
        gateway = create_gateway(settings)
        async with running(gateway):
            yield Platform(gateway=gateway, service_urls=urls)
    finally:
        for process in processes:
            stop_process(process)
