"""The collector pause of bulk work (shared/runtime.py)."""

from __future__ import annotations

import asyncio
import gc

import pytest

from shared.runtime import collector_paused


@pytest.fixture
def collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_the_collector_waits_for_the_step_and_comes_back(collector_on):
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_the_collector_comes_back_even_when_the_step_fails(collector_on):
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("the batch failed")
    assert gc.isenabled()


async def test_overlapping_steps_keep_it_paused_until_the_last_one_ends(collector_on):
    """An import commits on two connections: the first step to end must not turn the
    collector back on under the other, nor leave it off after both."""
    first_done = asyncio.Event()
    seen: list[bool] = []

    async def first() -> None:
        with collector_paused():
            await asyncio.sleep(0)
        first_done.set()

    async def second() -> None:
        with collector_paused():
            await first_done.wait()
            seen.append(gc.isenabled())

    await asyncio.gather(second(), first())
    assert seen == [False]
    assert gc.isenabled()


def test_a_collector_turned_off_by_the_process_stays_off():
    was = gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        if was:
            gc.enable()
