"""Query parameters: types that take only what their schema says, and no parameter unheard of.

pydantic's lax mode reads a number as a Unix time, so `?submitted_to=0.5` was a valid date
(1 January 1970) and filtered silently; the OpenAPI document says `format: date`. These types
take the ISO 8601 text only, and answer anything else with a 422 naming the parameter.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BeforeValidator

from shared.problems import Problem, field_error

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?")


def _iso_date(value: Any) -> Any:
    if isinstance(value, str) and not _DATE.fullmatch(value):
        raise ValueError("must be a date as YYYY-MM-DD")
    return value


def _iso_datetime(value: Any) -> Any:
    if isinstance(value, str) and not _DATETIME.fullmatch(value):
        raise ValueError("must be an ISO 8601 date or date-time, e.g. 2026-12-06T09:30:00+07:00")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date)]
IsoDateTime = Annotated[datetime, BeforeValidator(_iso_datetime)]


_KNOWN: dict[int, frozenset[str]] = {}


def flat_parameters(dependant: Dependant) -> dict[str, list[Any]]:
    """The route's parameters by where they come from (`path`, `query`, `header`, `body`),
    its dependencies' included."""
    found: dict[str, list[Any]] = {"path": [], "query": [], "header": [], "body": []}
    stack = [dependant]
    while stack:
        current = stack.pop()
        found["path"].extend(current.path_params)
        found["query"].extend(current.query_params)
        found["header"].extend(current.header_params)
        found["body"].extend(current.body_params)
        stack.extend(current.dependencies)
    return found


def _known_parameters(route: APIRoute) -> frozenset[str]:
    known = _KNOWN.get(id(route))
    if known is None:
        known = frozenset(p.alias for p in flat_parameters(route.dependant)["query"])
        _KNOWN[id(route)] = known
    return known


async def refuse_unknown_query(request: Request) -> None:
    """A dependency of every service route (`create_service_app`): a query parameter the route
    does not take is refused with 400 naming it, never silently ignored (a misspelt filter
    would otherwise answer the whole list)."""
    if not request.scope.get("query_string"):
        return
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    unknown = sorted(set(request.query_params) - _known_parameters(route))
    if unknown:
        known = ", ".join(sorted(_known_parameters(route))) or "none"
        raise Problem(
            400,
            f"Unknown query parameter(s): {', '.join(unknown)}. This operation takes: {known}.",
            errors=[field_error(["query", name], "unknown parameter") for name in unknown],
        )
