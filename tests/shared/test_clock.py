"""The platform clock: "today" is the date in Cambodia, and an app's injected clock is the one
its requests and background work read."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import httpx
import pytest
from fastapi import APIRouter, FastAPI

from shared import clock
from shared.clock import CAMBODIA, ManualClock, cambodia_date
from tests.harness import NATIONAL, internal_headers, running
from tests.shared.sample_app import app_with_routes


def test_today_is_the_date_in_cambodia_not_in_utc():
    # 17:00 UTC is midnight in Phnom Penh: the UTC date lags a day behind until then.
    assert cambodia_date(datetime(2026, 12, 31, 16, 59, tzinfo=UTC)) == date(2026, 12, 31)
    assert cambodia_date(datetime(2026, 12, 31, 17, 0, tzinfo=UTC)) == date(2027, 1, 1)
    assert ManualClock(datetime(2026, 12, 31, 17, 0, tzinfo=UTC)).today() == date(2027, 1, 1)
    assert datetime(2027, 1, 1, tzinfo=CAMBODIA).utcoffset().total_seconds() == 7 * 3600


def test_a_manual_clock_moves_only_when_told():
    manual = ManualClock(datetime(2030, 5, 1, 3, tzinfo=UTC))
    assert manual.now() == manual.now() == datetime(2030, 5, 1, 3, tzinfo=UTC)
    assert manual.advance(days=1, hours=2) == datetime(2030, 5, 2, 5, tzinfo=UTC)
    with pytest.raises(ValueError, match="aware"):
        manual.set(datetime(2030, 1, 1))


def test_the_current_clock_is_the_one_in_use_and_falls_back_to_the_system_clock():
    manual = ManualClock(datetime(2031, 2, 3, tzinfo=UTC))
    with clock.using(manual):
        assert clock.now() == datetime(2031, 2, 3, tzinfo=UTC)
        assert clock.today() == date(2031, 2, 3)
    assert clock.current_clock() is clock.SYSTEM_CLOCK


async def test_requests_and_background_work_of_an_app_read_its_injected_clock(infrastructure):
    manual = ManualClock(datetime(2040, 1, 1, 12, tzinfo=UTC))
    seen: dict[str, datetime] = {}
    router = APIRouter()

    @router.get("/now")
    async def what_time(c: clock.ClockDep) -> dict:
        return {"dependency": c.now().isoformat(), "ambient": clock.now().isoformat()}

    async def background(app: FastAPI) -> None:
        seen["background"] = clock.now()

    app = app_with_routes(
        infrastructure.database_url("platform"),
        infrastructure.bootstrap_servers,
        [router],
        background=[background],
        clock=manual,
    )
    async with running(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            answer = (await client.get("/now", headers=internal_headers(NATIONAL, "sample"))).json()
        await asyncio.sleep(0)
    assert answer == {
        "dependency": "2040-01-01T12:00:00+00:00",
        "ambient": "2040-01-01T12:00:00+00:00",
    }
    assert seen["background"] == datetime(2040, 1, 1, 12, tzinfo=UTC)
    # Nothing leaks into the caller: outside the app, the system clock is current again.
    assert clock.current_clock() is clock.SYSTEM_CLOCK
