"""The consumer runner: one effect per event, dead letters, offsets after the commit."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.clock import ManualClock
from shared.consumer import ConsumerContext, ConsumerRunner, EventConsumer, dead_letter_topic
from shared.db.engine import Database, new_metadata
from shared.events.envelope import CloudEvent, encode
from tests.harness import produce, read_topic, unique, wait_for
from tests.shared.sample_events import ThingHappened

TOPIC = ThingHappened.topic()

metadata = new_metadata()
effects = sa.Table(
    "test_consumed_effect",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("thing_id", sa.Text, nullable=False),
    sa.Column("n", sa.Integer, nullable=False),
)
attempts: Counter = Counter()
# Things whose handler meets "connection refused" this many more times (a database outage).
outages: Counter = Counter()
consumer = EventConsumer("platformtest", "library-tests")


@consumer.on(ThingHappened)
async def record_thing(session, event: ThingHappened, envelope: CloudEvent) -> None:
    attempts[envelope.id] += 1
    await session.execute(sa.insert(effects).values(thing_id=event.thing_id, n=event.n))
    if outages[event.thing_id] > 0:
        outages[event.thing_id] -= 1
        raise ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)")
    if event.fail:
        # After the insert, so the test also shows that a failed attempt leaves no effect.
        raise RuntimeError("the handler refuses this event")


@pytest.fixture(scope="session")
async def runner(infrastructure):
    database = Database(infrastructure.database_url("platform"))
    async with database.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    running = ConsumerRunner(
        consumer,
        database=database,
        bootstrap_servers=infrastructure.bootstrap_servers,
        max_attempts=3,
        retry_backoff=0.01,
    )
    running.start()
    await wait_for(running.assigned.is_set, timeout=60)  # the group join happens once
    yield running
    await running.stop()
    await database.dispose()


def envelope_for(
    thing_id: str, n: int, *, fail: bool = False, event_id: str | None = None
) -> bytes:
    event = ThingHappened(thing_id=thing_id, n=n, fail=fail)
    return encode(
        CloudEvent(
            id=event_id or str(uuid.uuid4()),
            source=ThingHappened.source(),
            type=ThingHappened.event_type(),
            subject=thing_id,
            time=datetime.now(UTC),
            dataschema=ThingHappened.dataschema(),
            data=event.model_dump(mode="json"),
            jurisdiction="120801",
            sequence="00000000000000000001",
        )
    )


async def effect_count(runner: ConsumerRunner, thing_id: str) -> int:
    async with runner.database.transaction() as session:
        return (
            await session.execute(
                sa.select(sa.func.count())
                .select_from(effects)
                .where(effects.c.thing_id == thing_id)
            )
        ).scalar_one()


async def test_the_same_event_delivered_twice_has_one_effect(infrastructure, runner):
    thing, marker = unique("dup"), unique("marker")
    duplicate = envelope_for(thing, 1)
    for value in (duplicate, duplicate, envelope_for(marker, 1)):
        await produce(infrastructure.bootstrap_servers, TOPIC, value, key=b"same-partition")

    await wait_for(lambda: effect_count(runner, marker))
    assert await effect_count(runner, thing) == 1


async def test_a_poison_message_goes_to_the_dead_letter_topic_and_the_next_is_processed(
    infrastructure, runner
):
    key = unique("poison").encode()
    after = unique("after-poison")
    await produce(infrastructure.bootstrap_servers, TOPIC, b"{not a cloudevent", key=key)
    await produce(infrastructure.bootstrap_servers, TOPIC, envelope_for(after, 1), key=key)

    await wait_for(lambda: effect_count(runner, after))
    dlq = dead_letter_topic(TOPIC, consumer.group)
    assert dlq == "sp.platformtest.thing.dlq.platformtest.library-tests"
    records = await read_topic(
        infrastructure.bootstrap_servers, dlq, until=lambda rs: any(r.key == key for r in rs)
    )
    dead = next(r for r in records if r.key == key)
    headers = dict(dead.headers)
    assert dead.value == b"{not a cloudevent"
    assert headers["x-dlq-original-topic"] == TOPIC.encode()
    assert b"not a CloudEvents envelope" in headers["x-dlq-error"]


async def test_a_failing_handler_is_retried_then_dead_lettered_without_effects(
    infrastructure, runner
):
    key = unique("failing").encode()
    failing, after = unique("fails"), unique("after-failure")
    event_id = str(uuid.uuid4())
    await produce(
        infrastructure.bootstrap_servers,
        TOPIC,
        envelope_for(failing, 1, fail=True, event_id=event_id),
        key=key,
    )
    await produce(infrastructure.bootstrap_servers, TOPIC, envelope_for(after, 1), key=key)

    await wait_for(lambda: effect_count(runner, after))
    assert attempts[event_id] == 3
    assert await effect_count(runner, failing) == 0, "each failed attempt rolled back"
    records = await read_topic(
        infrastructure.bootstrap_servers,
        dead_letter_topic(TOPIC, consumer.group),
        until=lambda rs: any(r.key == key for r in rs),
    )
    dead = next(r for r in records if r.key == key)
    assert b"the handler refuses this event" in dict(dead.headers)["x-dlq-error"]


async def test_offsets_are_committed_after_processing(infrastructure, runner):
    key = unique("offset").encode()
    thing = unique("offset")
    await produce(infrastructure.bootstrap_servers, TOPIC, envelope_for(thing, 1), key=key)
    await wait_for(lambda: effect_count(runner, thing))
    records = await read_topic(
        infrastructure.bootstrap_servers, TOPIC, until=lambda rs: any(r.key == key for r in rs)
    )
    record = next(r for r in records if r.key == key)
    tp = TopicPartition(TOPIC, record.partition)

    # A group member that never subscribes does not join; it only reads committed offsets.
    observer = AIOKafkaConsumer(
        bootstrap_servers=infrastructure.bootstrap_servers,
        group_id=consumer.group,
        enable_auto_commit=False,
    )
    await observer.start()
    try:

        async def committed_past_record() -> bool:
            committed = await observer.committed(tp)
            return committed is not None and committed >= record.offset + 1

        await wait_for(committed_past_record, timeout=10)
    finally:
        await observer.stop()


async def test_a_handler_declaring_a_context_gets_the_runners_settings_and_clock(
    runner, infrastructure
):
    seen: list = []
    injected = EventConsumer("platformtest", "context-tests")

    @injected.on(ThingHappened)
    async def note(session, event, envelope, context: ConsumerContext) -> None:
        seen.append((context.settings, context.clock.now()))

    moment = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    settings = object()
    with_context = ConsumerRunner(
        injected,
        database=runner.database,
        bootstrap_servers=infrastructure.bootstrap_servers,
        context=ConsumerContext(settings=settings, clock=ManualClock(moment)),
    )
    raw = envelope_for(unique("ctx"), 1)
    envelope, model, handler = with_context._decode(raw, TOPIC)
    await with_context._apply(envelope, model, handler)
    assert seen == [(settings, moment)]


async def test_an_outage_is_waited_out_beyond_the_attempts_and_never_dead_lettered(
    infrastructure, runner
):
    key = unique("outage").encode()
    waited, after = unique("waits"), unique("after-outage")
    event_id = str(uuid.uuid4())
    outages[waited] = runner.max_attempts + 2  # more failures than a faulty message gets
    await produce(
        infrastructure.bootstrap_servers,
        TOPIC,
        envelope_for(waited, 1, event_id=event_id),
        key=key,
    )
    await produce(infrastructure.bootstrap_servers, TOPIC, envelope_for(after, 1), key=key)

    await wait_for(lambda: effect_count(runner, after), timeout=30)
    assert attempts[event_id] == runner.max_attempts + 3, "tried until the outage ended"
    assert await effect_count(runner, waited) == 1, "applied once, after the outage"
    # Nothing of this key reached the dead-letter topic (a marker sent there shows the end).
    dlq = dead_letter_topic(TOPIC, consumer.group)
    marker = unique("marker").encode()
    await produce(infrastructure.bootstrap_servers, dlq, b"marker", key=marker)
    records = await read_topic(
        infrastructure.bootstrap_servers, dlq, until=lambda rs: any(r.key == marker for r in rs)
    )
    assert [r for r in records if r.key == key] == []


async def test_a_restart_pauses_briefly_where_an_outage_backs_off_further(monkeypatch):
    """Restarts are the consumer's own decision (a topic re-created while the broker comes
    back): a run of them must not wait up to max_backoff each before reading again."""
    from shared.consumer import ConsumerRestart

    delays: list[float] = []
    real_sleep = asyncio.sleep
    under_test: asyncio.Task | None = None

    async def recorded_sleep(seconds: float, *args) -> None:
        if asyncio.current_task() is not under_test:  # other tests' tasks share the loop
            await real_sleep(seconds, *args)
            return
        delays.append(seconds)
        await real_sleep(0)

    failures = iter(
        [ConsumerRestart("topic sp.test.thing was re-created")] * 8
        + [ConnectionRefusedError(111, "broker away")] * 7
    )

    async def consume() -> None:
        failure = next(failures, None)
        if failure is None:
            raise asyncio.CancelledError
        raise failure

    running = ConsumerRunner(
        consumer,
        database=None,  # never reached: _consume is replaced
        bootstrap_servers="127.0.0.1:1",
        max_backoff=30.0,
        transient_max_backoff=5.0,
    )
    monkeypatch.setattr(running, "_consume", consume)
    monkeypatch.setattr(asyncio, "sleep", recorded_sleep)
    under_test = asyncio.create_task(running.run())
    with pytest.raises(asyncio.CancelledError):
        await under_test
    assert len(delays) == 15
    assert max(delays[:8]) <= 5.0  # restarts: short pauses
    assert delays[-1] == 30.0  # an outage backs off to max_backoff
