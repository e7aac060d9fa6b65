"""Benefit periods as written by people: `2026-11` (a month), `2026-Q4` (a quarter), `2026`
(a year). A programme pays per month, quarter or year, and its benefits name periods of that
kind; a one-off benefit may name any."""

from __future__ import annotations

import re
from datetime import date

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")

EXAMPLE = {"monthly": "2026-11", "quarterly": "2026-Q4", "yearly": "2026"}


def period_kind_and_start(period: str) -> tuple[str, date]:
    """("monthly" | "quarterly" | "yearly", first day) or ValueError with the reason."""
    if match := _MONTH.match(period):
        kind, start = "monthly", date(int(match[1]), int(match[2]), 1)
    elif match := _QUARTER.match(period):
        kind, start = "quarterly", date(int(match[1]), 3 * int(match[2]) - 2, 1)
    elif match := _YEAR.match(period):
        kind, start = "yearly", date(int(match[1]), 1, 1)
    else:
        raise ValueError("write a period as YYYY-MM, YYYY-Qn or YYYY")
    if not 2000 <= start.year <= 2100:
        raise ValueError("the year must lie between 2000 and 2100")
    return kind, start


def period_start(period: str, programme_period: str) -> date:
    """The first day of `period`, which must be of the programme's kind (ValueError)."""
    kind, start = period_kind_and_start(period)
    if programme_period != "one_off" and kind != programme_period:
        raise ValueError(
            f"the programme pays {programme_period.replace('_', '-')}: write the period like "
            f"{EXAMPLE[programme_period]}"
        )
    return start
