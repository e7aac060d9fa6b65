"""A JSON response serialised by orjson, for answers built as plain dicts on hot paths.

FastAPI validates and serialises a returned model through pydantic; a route that builds its
answer from database rows in the shape of its `response_model` returns `json_response(...)`
instead (its tests check that the body validates against the model). UUIDs, dates and
datetimes serialise as pydantic writes them (UTC as `Z`); asyncpg's UUIDs as text.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Response

_OPTIONS = orjson.OPT_UTC_Z


def _default(value: Any) -> str:
    # asyncpg returns its own UUID type (not a uuid.UUID subclass orjson knows).
    if type(value).__name__ == "UUID":
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def json_response(
    content: Any, *, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        content=orjson.dumps(content, default=_default, option=_OPTIONS),
        status_code=status_code,
        headers=headers,
        media_type="application/json",
    )
