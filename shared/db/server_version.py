"""The PostgreSQL server versions the platform supports: 18 and newer.

The migrations and the code use what only PostgreSQL 18 has (`uuidv7()` in imports, among
others), so a service, the migrations and `deploy/migrate.py` check the server they connect to
and stop with a message naming the server and its version, rather than failing later on the
first statement an older server does not know.
"""

from __future__ import annotations

from sqlalchemy.engine import make_url

MINIMUM_MAJOR = 18
MINIMUM_SERVER_VERSION_NUM = MINIMUM_MAJOR * 10000
# server_version_num is e.g. 180001 for 18.1, 160004 for 16.4 (90624 for 9.6.24).
SERVER_VERSION_SQL = "SELECT current_setting('server_version_num')::int"


class UnsupportedServerVersion(RuntimeError):
    """The PostgreSQL server is older than the platform supports."""


def version_text(version_num: int) -> str:
    """`server_version_num` as people write it: 160004 -> "16.4", 90624 -> "9.6.24"."""
    if version_num >= 100000:
        return f"{version_num // 10000}.{version_num % 10000}"
    return f"{version_num // 10000}.{version_num // 100 % 100}.{version_num % 100}"


def server_name(database_url: str) -> str:
    """host:port/database of a database URL, without its credentials."""
    try:
        url = make_url(database_url)
    except Exception:  # not a URL SQLAlchemy reads: say no more than that
        return "the database server"
    host = url.host or "localhost"
    port = f":{url.port}" if url.port else ""
    database = f"/{url.database}" if url.database else ""
    return f"{host}{port}{database}"


def require_server_version(version_num: int, database_url: str) -> None:
    """Raise UnsupportedServerVersion unless `version_num` (the server's `server_version_num`)
    is PostgreSQL 18 or newer."""
    if version_num < MINIMUM_SERVER_VERSION_NUM:
        raise UnsupportedServerVersion(
            f"PostgreSQL {MINIMUM_MAJOR} or newer is required; {server_name(database_url)} "
            f"runs {version_text(version_num)}"
        )
