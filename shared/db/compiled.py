"""SQLAlchemy Core statements compiled once and run on a raw asyncpg connection.

For the few reads whose latency is a target (a household by code, the verification query):
the statement is still written with Core and the shared helpers (`jurisdiction_filter`), but
it is compiled once per shape instead of per request, and runs without the ORM's unit of
work, result processing and pre-ping. Values are passed by bind-parameter name; parameters
not given keep the value they had when the statement was built.

    @functools.cache
    def household_by_code(shape: str) -> CompiledStatement:
        return CompiledStatement(select(...).where(Household.code == bindparam("code"), ...))

    async with database.reads() as connection:
        rows = await household_by_code(shape).fetch(connection, code="HH000000019", ...)

Rows come back as asyncpg records with asyncpg's types (no SQLAlchemy type processing):
enum-like text columns are `str`, arrays are `list`, `json` columns are `str`.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.sql.base import Executable

_DIALECT = asyncpg_dialect()


class CompiledStatement:
    def __init__(self, statement: Executable) -> None:
        compiled = statement.compile(dialect=_DIALECT)
        if compiled.positiontup is None:  # pragma: no cover - the asyncpg dialect is positional
            raise TypeError("expected a positional paramstyle")
        self.sql = str(compiled)
        if "POSTCOMPILE" in self.sql:
            raise ValueError("expanding IN parameters cannot be precompiled; use = ANY(array)")
        self.names: tuple[str, ...] = tuple(compiled.positiontup)
        self.defaults: dict[str, Any] = dict(compiled.params)
        # A unique parameter (`bindparam(key, unique=True)`, like the jurisdiction filter's)
        # compiles as `key_1`: it is given by its key, which must then name one parameter.
        self.keys: tuple[str, ...] = tuple(
            compiled.binds[name]._orig_key if compiled.binds[name].unique else name
            for name in self.names
        )
        self.ambiguous = frozenset(k for k in self.keys if self.keys.count(k) > 1)

    def arguments(self, params: dict[str, Any]) -> list[Any]:
        ambiguous = self.ambiguous.intersection(params)
        if ambiguous:
            raise ValueError(f"{sorted(ambiguous)} name more than one parameter")
        missing = object()
        values = []
        for name, key in zip(self.names, self.keys, strict=True):
            value = params.get(key, missing)
            if value is missing:
                value = self.defaults[name]
            values.append(value)
        return values

    async def fetch(self, connection: asyncpg.Connection, **params: Any) -> list[asyncpg.Record]:
        return await connection.fetch(self.sql, *self.arguments(params))
