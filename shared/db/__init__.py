"""Database access: the async engine, one session per request, and the platform tables.

Services never commit: they `flush()`, and the request boundary (`SessionDep`) commits when the
endpoint returned and rolls back when it raised, before the response is sent, so a client
never sees a success that was not stored.
"""

from shared.db.engine import NAMING_CONVENTION, Database, asyncpg_dsn, new_metadata
from shared.db.session import DatabaseDep, SessionDep, get_database, get_session

__all__ = [
    "NAMING_CONVENTION",
    "Database",
    "DatabaseDep",
    "SessionDep",
    "asyncpg_dsn",
    "get_database",
    "get_session",
    "new_metadata",
]
