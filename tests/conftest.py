"""Session fixtures: real PostgreSQL and a real Kafka-protocol broker, migrated databases."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from dataclasses import dataclass

import asyncpg
import pytest

from devstack.broker import TansuBroker
from devstack.postgres import EmbeddedPostgres, create_databases, free_port
from shared.db.engine import asyncpg_dsn
from shared.migrations import upgrade
from tests.harness import ROOT, SERVICES


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
        postgres = EmbeddedPostgres(
            ROOT / ".local" / "test-postgres" / "data",
            port=free_port(),
            fast_unsafe=True,
            log_file=ROOT / ".local" / "test-postgres" / "postgres.log",
        )
        postgres.start()
        postgres_url = postgres.url
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if not bootstrap:
        broker = TansuBroker(port=free_port(), log_file=ROOT / ".local" / "test-broker.log")
        broker.start()
        bootstrap = broker.bootstrap_servers
    infra = Infrastructure(postgres_url.rstrip("/"), bootstrap)
    asyncio.run(
        create_databases(infra.postgres_url, [f"test_{s}" for s in SERVICES], recreate=True)
    )
    for service in SERVICES:
        upgrade(ROOT / "services" / service, infra.database_url(service))
    try:
        yield infra
    finally:
        if broker:
            broker.stop()
        if postgres:
            postgres.stop()


async def truncate_all(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        tables = await conn.fetch(
            "SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) AS name "
            "FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
        )
        if tables:
            await conn.execute(
                f"TRUNCATE {', '.join(t['name'] for t in tables)} RESTART IDENTITY CASCADE"
            )
    finally:
        await conn.close()


@pytest.fixture
async def clean_databases(infrastructure: Infrastructure) -> None:
    """Every test that asks for it starts from empty service databases."""
    for service in SERVICES:
        await truncate_all(asyncpg_dsn(infrastructure.database_url(service)))
