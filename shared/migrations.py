"""Alembic wiring shared by the services: each has its own `migrations/` and database.

A service's `migrations/env.py` is three lines that call `run_env()`; `upgrade()` runs a
service's migrations from code (the local stack, the tests, the deploy job's entry point).
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from shared.db.server_version import SERVER_VERSION_SQL, require_server_version


def alembic_config(service_dir: Path, database_url: str) -> Config:
    config = Config(str(service_dir / "alembic.ini"))
    config.set_main_option("script_location", str(service_dir / "migrations"))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(service_dir: Path, database_url: str, revision: str = "heads") -> None:
    command.upgrade(alembic_config(service_dir, database_url), revision)


def default_database_url(service: str) -> str:
    """`<SERVICE>_DATABASE_URL`, or the local stack's database on the port `make run` started
    it on (`SP_POSTGRES_PORT`, default 55432). Migrations and the command-line tools need
    nothing else, so they do not load the service's settings (which would demand its
    production secrets)."""
    port = os.environ.get("SP_POSTGRES_PORT") or "55432"
    return os.environ.get(f"{service.upper()}_DATABASE_URL") or (
        f"postgresql+asyncpg://postgres@127.0.0.1:{port}/{service}"
    )


def run_env(target_metadata: MetaData | None, service: str) -> None:
    """Body of a service's env.py (online mode over asyncpg; offline emits SQL)."""
    config = context.config
    url = config.get_main_option("sqlalchemy.url") or default_database_url(service)

    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return

    def migrate(connection: Connection) -> None:
        context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()

    async def run() -> None:
        engine = create_async_engine(url, poolclass=pool.NullPool)
        async with engine.connect() as connection:
            # Before any migration: they use what only PostgreSQL 18 has (uuidv7()). The read
            # ends its transaction, so Alembic's own transaction is the one that commits.
            version_num = (await connection.exec_driver_sql(SERVER_VERSION_SQL)).scalar_one()
            await connection.rollback()
            require_server_version(version_num, url)
            await connection.run_sync(migrate)
        await engine.dispose()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(run())
        return
    raise RuntimeError("call upgrade() from a thread without a running event loop")
