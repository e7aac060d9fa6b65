"""Cursor (keyset) pagination for every list.

The cursor is an opaque, URL-safe token holding the sort key of the last row returned; the
next page starts strictly after it, so pages stay stable while rows are added.
"""

from __future__ import annotations

import base64
import json
from contextvars import ContextVar
from datetime import date, datetime
from typing import Annotated, Any, Generic, TypeVar
from uuid import UUID

from fastapi import Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import Select, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from shared.problems import Problem, field_error

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


TOTAL_CAP = 10_000
# The total of the list `paginate` last read in this request (each request runs in its own
# context): `Page` takes it when the route does not give one, so every list counts without
# each route passing it along.
_last_total: ContextVar[tuple[int, bool] | None] = ContextVar("sp_page_total", default=None)


def _current_total() -> int | None:
    counted = _last_total.get()
    return None if counted is None else counted[0]


def _current_capped() -> bool | None:
    counted = _last_total.get()
    return None if counted is None else counted[1]


class Page(BaseModel, Generic[T]):
    """One page of a list, in a stable order; follow `next_cursor` for the next."""

    items: list[T]
    next_cursor: str | None = Field(
        None, description="Pass as `cursor` for the next page; null on the last page."
    )
    total: int | None = Field(
        default_factory=_current_total,
        description=f"How many items match the filters on all pages, counted up to {TOTAL_CAP:,} "
        "(`total_capped` is then true); null where the list does not count.",
        examples=[42],
    )
    total_capped: bool | None = Field(
        default_factory=_current_capped,
        description=f"True when more than {TOTAL_CAP:,} match: show the total as a floor.",
    )


class PageParams(BaseModel):
    cursor: str | None = None
    limit: int = DEFAULT_LIMIT


# async: FastAPI runs a plain-def dependency in its thread pool, a hop per request.
async def page_params(
    cursor: Annotated[str | None, Query(description="Opaque cursor from `next_cursor`.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> PageParams:
    return PageParams(cursor=cursor, limit=limit)


PageDep = Annotated[PageParams, Depends(page_params)]


def _tag(value: Any) -> list:
    if isinstance(value, datetime):
        return ["dt", value.isoformat()]
    if isinstance(value, date):
        return ["d", value.isoformat()]
    if isinstance(value, UUID):
        return ["u", str(value)]
    if isinstance(value, bool | int | float | str) or value is None:
        return ["v", value]
    raise TypeError(f"cannot put {type(value).__name__} in a cursor")


def _untag(item: list) -> Any:
    kind, value = item
    return {"dt": datetime.fromisoformat, "d": date.fromisoformat, "u": UUID}.get(
        kind, lambda v: v
    )(value)


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps([_tag(v) for v in values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, size: int) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = [_untag(item) for item in json.loads(raw)]
        if len(values) != size:
            raise ValueError("wrong size")
        return values
    except (ValueError, TypeError, KeyError) as exc:
        raise Problem(
            400,
            "The cursor is not one this list returned.",
            errors=[field_error(["query", "cursor"], "invalid cursor")],
        ) from exc


async def paginate(
    session: AsyncSession, statement: Select, *, order_by: list[Any], page: PageParams
) -> tuple[list[Any], str | None]:
    """Rows of `statement` ordered by `order_by` (unique together), one page after `cursor`.

    Returns the ORM objects (or rows) and the cursor of the next page, None on the last. It
    also counts the rows of the whole list (up to `TOTAL_CAP`), for the `Page` of this request.
    """
    _last_total.set(await count_up_to(session, statement))
    if page.cursor:
        after = decode_cursor(page.cursor, len(order_by))
        statement = statement.where(tuple_(*order_by) > tuple_(*after))
    result = await session.execute(statement.order_by(*order_by).limit(page.limit + 1))
    single_entity = len(statement.column_descriptions) == 1
    rows = list(result.scalars().all()) if single_entity else list(result.all())
    more = len(rows) > page.limit
    rows = rows[: page.limit]
    next_cursor = None
    if more:
        last = rows[-1]
        next_cursor = encode_cursor([getattr(last, col.key) for col in order_by])
    return rows, next_cursor


async def count_up_to(
    session: AsyncSession, statement: Select, cap: int = TOTAL_CAP
) -> tuple[int, bool]:
    """How many rows `statement` gives, counting at most `cap` + 1 of them (a national list
    must not scan millions to print a number): (total, capped)."""
    limited = statement.order_by(None).limit(cap + 1).subquery()
    found = (await session.execute(select(func.count()).select_from(limited))).scalar_one()
    return min(found, cap), found > cap
