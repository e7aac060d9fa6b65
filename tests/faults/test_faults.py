"""Faults under a running workload: the broker killed, the broker hung, PostgreSQL stopped, the
consumer killed mid-batch, a consumer stuck. Each ends with the consumer's table exactly as a
fault-free run of the same workload leaves it: every event applied once, in order per thing.

Real parts throughout: the fault-test service (`tests/faults/worker.py`, the platform's relay
and consumer runner) as a process, a Tansu broker and an embedded PostgreSQL of the test's own.
"""

from __future__ import annotations

import asyncio
import signal
import time

import httpx
import pytest

from shared.kafka import TopicWatch
from tests.harness import unique, wait_for
from tests.shared.sample_events import ThingHappened

THINGS = 6


def things() -> list[str]:
    return [unique("thing") for _ in range(THINGS)]


async def applied_count(stack) -> int:
    return len(await stack.applied())


async def test_broker_killed_and_restarted_mid_workload_loses_nothing(stack):
    names = things()
    stack.start_service()
    await stack.write(names, rounds=3)
    await wait_for(lambda: _at_least(stack, 3 * THINGS), timeout=60)

    stack.broker.kill()  # memory storage: topics, messages and the consumer group are gone
    await stack.write(names, rounds=3)  # committed while the broker is down
    await asyncio.sleep(3)
    stack.broker.start()
    await stack.write(names, rounds=3)

    await stack.assert_same_as_fault_free()
    # The relay noticed that the broker lost its topic and published the retained rows again.
    assert await stack.metric("sp_outbox_republished_total") >= 3 * THINGS
    # The topics are back as the platform declares them, not as the broker would auto-create
    # them (4 partitions, no dead-letter topic).
    watch = TopicWatch(stack.broker.bootstrap_servers)
    try:
        partitions = await watch.partitions()
    finally:
        await watch.close()
    topic = ThingHappened.topic()
    assert partitions[topic] == 3
    assert partitions[f"{topic}.dlq.platformtest.faults"] == 3


async def test_broker_paused_mid_workload_loses_nothing(stack):
    names = things()
    stack.start_service()
    await stack.write(names, rounds=2)
    await wait_for(lambda: _at_least(stack, 2 * THINGS), timeout=60)

    stack.broker.pause()  # SIGSTOP: connections stay open, nothing answers
    await stack.write(names, rounds=3)
    await asyncio.sleep(6)
    stack.broker.resume()
    await stack.write(names, rounds=2)

    await stack.assert_same_as_fault_free()


@pytest.mark.parametrize("mode", ["fast", "immediate"])
async def test_postgres_stopped_while_the_consumer_works_dead_letters_nothing(stack, mode):
    names = things()
    stack.start_service(handler_delay_seconds="0.05")
    await stack.write(names, rounds=8)
    await wait_for(lambda: _at_least(stack, 5), timeout=60)

    process = stack.postgres._process
    process.send_signal(signal.SIGINT if mode == "fast" else signal.SIGQUIT)
    process.wait(timeout=30)
    await asyncio.sleep(5)  # the consumer meets "connection refused" meanwhile
    stack.postgres.start()

    await stack.assert_same_as_fault_free()
    assert await stack.dead_letters() == 0, "an outage is no reason to dead-letter"
    assert await stack.metric("sp_consumer_events_total", outcome="dead_lettered") == 0


async def test_consumer_killed_mid_batch_applies_each_event_once(stack):
    names = things()
    first = stack.start_service(handler_delay_seconds="0.05")
    await stack.write(names, rounds=10)
    await wait_for(lambda: _at_least(stack, 10), timeout=60)

    first.kill()  # SIGKILL between a database commit and its offset commit, most likely
    first.wait()
    assert await applied_count(stack) < 10 * THINGS, "killed while work remained"
    stack.start_service(handler_delay_seconds="0.01")

    await stack.assert_same_as_fault_free()


async def test_a_stuck_consumer_turns_ready_degraded_and_back(stack):
    import asyncpg

    names = things()
    stack.start_service(consumer_stall_seconds="3")
    await stack.write(names)
    await wait_for(lambda: _at_least(stack, THINGS), timeout=60)

    # A transaction holding the consumer's table: its handler waits, messages pile up.
    blocker = await asyncpg.connect(stack.dsn)
    transaction = blocker.transaction()
    await transaction.start()
    await blocker.execute("LOCK TABLE fault_applied IN ACCESS EXCLUSIVE MODE")
    try:
        await stack.write(names)
        started = time.monotonic()
        ready = await wait_for(lambda: _ready_status(stack, 503), timeout=60, interval=0.5)
        assert time.monotonic() - started < 60, "degraded within a minute"
        assert ready["status"] == "degraded"
        assert ready["checks"]["consumers"].startswith("stalled: platformtest.faults")
        assert await stack.metric("sp_consumer_seconds_since_progress") > 3
        assert await stack.metric("sp_consumer_lag", consumer="platformtest.faults") > 0
    finally:
        await transaction.rollback()
        await blocker.close()

    await stack.assert_same_as_fault_free()
    back = await wait_for(lambda: _ready_status(stack, 200), timeout=30, interval=0.5)
    assert back["checks"]["consumers"] == "ok"


async def _at_least(stack, count: int) -> bool:
    return await applied_count(stack) >= count


async def _ready_status(stack, status: int) -> dict | None:
    async with httpx.AsyncClient(timeout=5) as client:
        response = await client.get(f"{stack.url}/ready")
    return response.json() if response.status_code == status else None
