"""Query-parameter types that take only what their schema says.

pydantic's lax mode reads a number as a Unix time, so `?submitted_to=0.5` was a valid date
(1 January 1970) and filtered silently; the OpenAPI document says `format: date`. These types
take the ISO 8601 text only, and answer anything else with a 422 naming the parameter.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator

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
