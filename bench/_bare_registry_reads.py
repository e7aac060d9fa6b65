"""The floor of bench/registry_reads.py: a bare asyncpg endpoint doing the registry's index
lookups, `uvicorn bench._bare_registry_reads:app` (started by the benchmark).

A plain ASGI callable (no FastAPI, no middleware, no internal-token check, no jurisdiction, no
access-log row) that answers

    GET /households/by-code/{code}       the household with its members
    GET /verification?household_code=... | national_id=... | family_name_latin=...&
        given_name_latin=...&birth_date=... | family_name_km=...&given_name_km=...&birth_date=...

each with ONE asyncpg statement (prepared once per connection by asyncpg's statement cache,
as the registry's read pool does) and a small orjson body. The SQL is the registry's own hot
read, compiled from its repository for the national shape without the access-log CTE
(`households.repository.household_read_statement("national", "code", False)` and
`verification.repository.verification_statement(way, "national", False)`): the same statement
text minus the audit row, so the same indexes (household's unique code, member's national ID
and full-name + birth-date indexes, the enrolment and benefit probes). The verification query
has one statement per way of asking, as in the registry. The read pool is sized like the
registry's (`BENCH_BARE_POOL_SIZE`, default 10; min 1, no reset query on release).

    BENCH_BARE_DATABASE_URL=postgresql://... uvicorn bench._bare_registry_reads:app
"""

from __future__ import annotations

import os
from datetime import date
from typing import Any
from urllib.parse import parse_qsl

import asyncpg
import orjson

POOL: asyncpg.Pool | None = None
# way of asking -> (SQL, the argument list with the registry's constant binds, {parameter
# name: its position}); "lookup" is the household by code.
STATEMENTS: dict[str, tuple[str, list[Any], dict[str, int]]] = {}
JSON = [(b"content-type", b"application/json")]


def registry_statements() -> dict[str, tuple[str, list[Any], dict[str, int]]]:
    """The registry's hot-read statements (national shape, no access-log row)."""
    from services.registry.households.repository import household_read_statement
    from services.registry.verification.repository import verification_statement

    compiled = {"lookup": household_read_statement("national", "code", False)}
    for way in ("household_code", "national_id", "latin_name", "khmer_name"):
        compiled[way] = verification_statement(way, "national", False)
    statements = {}
    for way, statement in compiled.items():
        template = statement.arguments({})
        positions = {key: index for index, key in enumerate(statement.keys)}
        statements[way] = (statement.sql, template, positions)
    return statements


def _fetch_arguments(way: str, **values: Any) -> tuple[str, list[Any]]:
    sql, template, positions = STATEMENTS[way]
    arguments = list(template)
    for name, value in values.items():
        arguments[positions[name]] = value
    return sql, arguments


async def _keep_session(_connection: asyncpg.Connection) -> None:
    """No reset query on release, as the registry's read pool."""


async def _startup() -> None:
    global POOL
    STATEMENTS.update(registry_statements())
    url = os.environ["BENCH_BARE_DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://")
    POOL = await asyncpg.create_pool(
        url,
        min_size=1,
        max_size=int(os.environ.get("BENCH_BARE_POOL_SIZE", "10")),
        reset=_keep_session,
        server_settings={"application_name": "bench-bare-reads"},
    )


async def _lookup(code: str) -> tuple[int, bytes]:
    sql, arguments = _fetch_arguments("lookup", key=code.strip().upper())
    assert POOL is not None
    async with POOL.acquire() as connection:
        rows = await connection.fetch(sql, *arguments)
    if not rows:
        return 404, b'{"detail":"not found"}'
    first = rows[0]
    body = {
        "household_id": str(first["id"]),
        "household_code": first["code"],
        "status": first["status"],
        "poverty_level": first["poverty_level"],
        "members": sum(1 for row in rows if row["m_id"] is not None),
    }
    return 200, orjson.dumps(body)


def _verification_query(query: dict[str, str]) -> tuple[str, dict[str, Any]] | None:
    """The way of asking and its values, as `VerificationQuery.from_params` reads them."""
    if query.get("household_code"):
        return "household_code", {"household_code": query["household_code"].strip().upper()}
    if query.get("national_id"):
        return "national_id", {"national_id": query["national_id"].strip()}
    for way, suffix in (("latin_name", "latin"), ("khmer_name", "km")):
        family, given = query.get(f"family_name_{suffix}"), query.get(f"given_name_{suffix}")
        if family and given and query.get("birth_date"):
            full = " ".join(family.split()) + " " + " ".join(given.split())
            return way, {
                "full_name": full.lower() if way == "latin_name" else full,
                "birth_date": date.fromisoformat(query["birth_date"]),
            }
    return None


async def _verify(query_string: bytes) -> tuple[int, bytes]:
    asked = _verification_query(dict(parse_qsl(query_string.decode("latin-1"))))
    if asked is None:
        return 422, b'{"detail":"name a household or a person"}'
    way, values = asked
    sql, arguments = _fetch_arguments(way, **values)
    assert POOL is not None
    async with POOL.acquire() as connection:
        rows = await connection.fetch(sql, *arguments)
    if not rows:
        return 404, b'{"detail":"not found"}'
    matches: dict[tuple, dict[str, Any]] = {}
    for row in rows:
        match = matches.setdefault(
            (row["h_id"], row["m_id"]),
            {"household_code": row["h_code"], "status": row["h_status"], "programmes": []},
        )
        if row["enrolment_id"] is not None:
            match["programmes"].append(row["programme_code"])
    return 200, orjson.dumps({"by": way, "matches": list(matches.values())})


async def app(scope, receive, send) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await _startup()
                except Exception as error:  # reported to uvicorn, which stops
                    await send({"type": "lifespan.startup.failed", "message": repr(error)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if POOL is not None:
                    await POOL.close()
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    path = scope["path"]
    if path.startswith("/households/by-code/"):
        status, body = await _lookup(path[len("/households/by-code/") :])
    elif path == "/verification":
        status, body = await _verify(scope["query_string"])
    elif path == "/health":
        status, body = 200, b'{"status":"ok"}'
    else:
        status, body = 404, b'{"detail":"no such route"}'
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*JSON, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
