"""The service's sense of time, injectable so SLA escalation can be tested without waiting.

Every timestamp the service writes (submitted, acknowledged, due, escalated ...) and every
deadline the SLA scheduler compares against comes from the app's clock
(`app.state.clock`), never from `datetime.now()` or SQL `now()` directly.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import Request


class Clock:
    """Wall-clock time in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock(Clock):
    """A clock that moves only when told to (tests, benchmarks, demo data)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime.now(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, **delta: float) -> datetime:
        self._now += timedelta(**delta)
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = moment


async def request_clock(request: Request) -> Clock:
    # async: FastAPI runs a plain `def` dependency in its thread pool, a thread hand-off on
    # every request for an attribute lookup.
    return getattr(request.app.state, "clock", None) or Clock()
