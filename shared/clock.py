"""The platform's sense of time: one clock per process, injected, and "today" in Cambodia.

Every timestamp a service writes and every date it judges against ("born in the future",
"due within 300 days", a DCI fire time, an SLA deadline) comes from the app's clock, never
from `datetime.now()`, `date.today()` or SQL `now()` directly. The app factory takes a clock
(`create_service_app(clock=...)`, default the system clock) and makes it the *current* clock
of everything the app runs: each request (through `ClockDep` or `now()`), the relay, the
consumers and the background tasks. A test gives the app a `ManualClock` and moves it, so a
test passes on any day and a deadline weeks away is reached without waiting.

Cambodia keeps Indochina Time, UTC+7, all year (no daylight saving), so a fixed offset is
exact and needs no time-zone database in the container.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Annotated

from fastapi import Depends, Request

CAMBODIA = timezone(timedelta(hours=7), "ICT")


class Clock:
    """Wall-clock time in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        """The date in Cambodia now: what "today" means for every rule about dates."""
        return cambodia_date(self.now())


class ManualClock(Clock):
    """A clock that moves only when told to (tests, benchmarks, demo data)."""

    def __init__(self, start: datetime | None = None) -> None:
        if start is not None and start.tzinfo is None:
            raise ValueError("a ManualClock starts at an aware datetime")
        self._now = start or datetime.now(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, **delta: float) -> datetime:
        self._now += timedelta(**delta)
        return self._now

    def set(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("a ManualClock is set to an aware datetime")
        self._now = moment


SYSTEM_CLOCK = Clock()
_current: ContextVar[Clock] = ContextVar("sp_clock", default=SYSTEM_CLOCK)


def cambodia_date(moment: datetime) -> date:
    """The calendar date in Cambodia at `moment` (an aware datetime)."""
    return moment.astimezone(CAMBODIA).date()


def current_clock() -> Clock:
    return _current.get()


def now() -> datetime:
    """Now, by the current clock (UTC). Model defaults and services call this."""
    return _current.get().now()


def today() -> date:
    """Today in Cambodia, by the current clock."""
    return _current.get().today()


@contextlib.contextmanager
def using(clock: Clock) -> Iterator[Clock]:
    """Make `clock` the current clock for this task (and the tasks it starts) while inside."""
    token = _current.set(clock)
    try:
        yield clock
    finally:
        _current.reset(token)


class ClockMiddleware:
    """Each request runs with its app's clock (`app.state.clock`) as the current clock."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        owner = scope.get("app")
        clock = getattr(owner.state, "clock", None) if owner is not None else None
        token = _current.set(clock or SYSTEM_CLOCK)
        try:
            await self.app(scope, receive, send)
        finally:
            _current.reset(token)


async def request_clock(request: Request) -> Clock:
    # async: FastAPI runs a plain `def` dependency in its thread pool, a thread hand-off on
    # every request for an attribute lookup.
    return getattr(request.app.state, "clock", None) or SYSTEM_CLOCK


ClockDep = Annotated[Clock, Depends(request_clock)]
