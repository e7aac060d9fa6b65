"""The async SQLAlchemy engine over asyncpg, and metadata conventions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from shared.db.server_version import SERVER_VERSION_SQL, require_server_version

# Stable constraint names, so Alembic migrations can refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_metadata() -> MetaData:
    return MetaData(naming_convention=NAMING_CONVENTION)


def asyncpg_dsn(url: str) -> str:
    """The plain `postgresql://` DSN asyncpg wants, from a SQLAlchemy URL."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def _keep_session(_connection: asyncpg.Connection) -> None:
    """No reset query on release: the read pool runs single statements that leave no session
    state (asyncpg still rolls back a transaction left open)."""


class Database:
    """The ORM engine for everything, and a small asyncpg pool for the few hot reads that
    skip the ORM (`reads()`, with statements from `shared.db.compiled`)."""

    def __init__(self, url: str, *, pool_size: int = 10, application_name: str = "sp") -> None:
        self.url = url
        self.pool_size = pool_size
        self.application_name = application_name
        self._read_pool: asyncpg.Pool | None = None
        self._read_pool_lock = asyncio.Lock()
        self.server_version_num: int | None = None
        self.engine = create_async_engine(
            url,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=True,
            # An error's text never carries the statement's parameters: they are citizens'
            # names, phones and IDs, and error texts end up in logs.
            hide_parameters=True,
            connect_args={"server_settings": {"application_name": application_name}},
        )
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session whose work commits on success and rolls back on any exception."""
        async with self.sessionmaker() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    @asynccontextmanager
    async def reads(self) -> AsyncIterator[asyncpg.Connection]:
        """A raw asyncpg connection for one hot read: no pre-ping, no ORM, prepared statements
        cached per connection. A statement that writes (an audit row in a data-modifying CTE)
        commits by itself; asyncpg replaces a connection that broke."""
        pool = self._read_pool or await self._open_read_pool()
        async with pool.acquire() as connection:
            yield connection

    async def _open_read_pool(self) -> asyncpg.Pool:
        async with self._read_pool_lock:
            if self._read_pool is None:
                self._read_pool = await asyncpg.create_pool(
                    asyncpg_dsn(self.url),
                    min_size=1,
                    max_size=self.pool_size,
                    reset=_keep_session,
                    server_settings={"application_name": f"{self.application_name}-reads"},
                )
            return self._read_pool

    async def check_server_version(self) -> int:
        """The server's `server_version_num`; UnsupportedServerVersion (naming the server and
        its version) when it is older than PostgreSQL 18."""
        async with self.engine.connect() as conn:
            version_num = (await conn.execute(text(SERVER_VERSION_SQL))).scalar_one()
        require_server_version(version_num, self.url)
        self.server_version_num = version_num
        return version_num

    async def ping(self) -> None:
        """Until the server's version was checked (it was not reachable at startup), the ping
        is that check, so a service on too old a server never becomes ready."""
        if self.server_version_num is None:
            await self.check_server_version()
            return
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        if self._read_pool is not None:
            await self._read_pool.close()
            self._read_pool = None
        await self.engine.dispose()
