"""The transactional outbox and its relay, against real PostgreSQL and a real broker."""

from __future__ import annotations

import contextlib
from collections import Counter
from datetime import timedelta

import asyncpg
import pytest
from sqlalchemy import func, select

from devstack.broker import TansuBroker
from devstack.postgres import free_port
from shared.db.engine import Database, asyncpg_dsn
from shared.db.platform_tables import outbox
from shared.outbox import OutboxRelay, Outgoing, emit, emit_many
from tests.harness import envelopes, read_topic, unique, wait_for
from tests.shared.sample_events import ThingHappened

TOPIC = ThingHappened.topic()


@pytest.fixture
async def database(infrastructure, clean_databases):
    db = Database(infrastructure.database_url("platform"))
    yield db
    await db.dispose()


@contextlib.asynccontextmanager
async def relays(infrastructure, count: int = 1, *, bootstrap: str | None = None):
    started = [
        OutboxRelay(
            service="platformtest",
            database_url=infrastructure.database_url("platform"),
            bootstrap_servers=bootstrap or infrastructure.bootstrap_servers,
            poll_interval=0.2,
            max_backoff=0.5,
        )
        for _ in range(count)
    ]
    for relay in started:
        relay.start()
    try:
        yield started
    finally:
        for relay in started:
            await relay.stop()


async def emit_thing(db: Database, thing_id: str, n: int) -> None:
    async with db.transaction() as session:
        await emit(
            session, ThingHappened(thing_id=thing_id, n=n), subject=thing_id, jurisdiction="120801"
        )


def subjects(records: list) -> Counter:
    return Counter(e["subject"] for e in envelopes(records))


async def all_published(database: Database) -> bool:
    async with database.transaction() as session:
        rows = (await session.execute(select(outbox.c.published_at))).scalars().all()
    return bool(rows) and all(rows)


async def test_rolled_back_event_is_never_published_and_committed_one_is_published_once(
    infrastructure, database
):
    rolled_back, committed = unique("rolled-back"), unique("committed")
    with pytest.raises(RuntimeError):
        async with database.transaction() as session:
            await emit(
                session,
                ThingHappened(thing_id=rolled_back, n=1),
                subject=rolled_back,
                jurisdiction="120801",
            )
            raise RuntimeError("a business rule failed after the event was emitted")
    await emit_thing(database, committed, 1)

    async with relays(infrastructure):
        records = await read_topic(
            infrastructure.bootstrap_servers, TOPIC, until=lambda rs: subjects(rs)[committed] >= 1
        )
        # The relay marks a row published once the broker's acknowledgement is in, a moment
        # after the event can already be read.
        await wait_for(lambda: all_published(database))
        async with database.transaction() as session:
            rows = (await session.execute(select(outbox))).mappings().all()

    seen = subjects(records)
    assert seen[committed] == 1
    assert seen[rolled_back] == 0
    assert [r["aggregate_id"] for r in rows] == [committed]
    assert rows[0]["published_at"] is not None
    record = next(r for r in records if [e["subject"] for e in envelopes([r])] == [committed])
    assert record.key == committed.encode(), "the key is the aggregate id"


async def test_two_relays_publish_each_event_once_in_order_per_aggregate(infrastructure, database):
    things = [unique(f"thing{i}") for i in range(3)]
    async with relays(infrastructure, count=2) as (first, second):
        await wait_for(lambda: first.is_leader or second.is_leader)
        for n in range(20):
            for thing in things:
                await emit_thing(database, thing, n)
        records = await read_topic(
            infrastructure.bootstrap_servers,
            TOPIC,
            until=lambda rs: all(subjects(rs)[t] >= 20 for t in things),
        )
        assert [first.is_leader, second.is_leader].count(True) == 1

        leader, standby = (first, second) if first.is_leader else (second, first)
        await leader.stop()
        await wait_for(lambda: standby.is_leader, timeout=10)
        for thing in things:
            await emit_thing(database, thing, 20)
        records = await read_topic(
            infrastructure.bootstrap_servers,
            TOPIC,
            until=lambda rs: all(subjects(rs)[t] >= 21 for t in things),
        )

    ids = Counter(e["id"] for e in envelopes(records) if e["subject"] in things)
    assert len(ids) == 63 and set(ids.values()) == {1}, "every event exactly once"
    ordered = sorted(records, key=lambda r: (r.partition, r.offset))
    for thing in things:
        ns = [e["data"]["n"] for e in envelopes(ordered) if e["subject"] == thing]
        assert ns == list(range(21)), f"{thing} out of order: {ns}"
        partitions = {r.partition for r in records if r.key == thing.encode()}
        assert len(partitions) == 1, "one aggregate stays on one partition"


async def test_events_wait_for_a_stopped_broker_and_are_published_once_after_restart(
    infrastructure, database
):
    broker = TansuBroker(port=free_port())
    broker.start()
    before, during = unique("before"), [unique("during") for _ in range(3)]
    try:
        async with relays(infrastructure, bootstrap=broker.bootstrap_servers) as (relay,):
            await emit_thing(database, before, 0)
            await read_topic(
                broker.bootstrap_servers, TOPIC, until=lambda rs: subjects(rs)[before] == 1
            )
            broker.stop()
            for thing in during:
                await emit_thing(database, thing, 0)
            # The relay tries, fails and backs off; the events stay in PostgreSQL meanwhile.
            await wait_for(lambda: relay.last_error is not None, timeout=20)
            async with database.transaction() as session:
                waiting = (
                    (
                        await session.execute(
                            select(outbox.c.aggregate_id).where(outbox.c.published_at.is_(None))
                        )
                    )
                    .scalars()
                    .all()
                )
            assert sorted(waiting) == sorted(during)

            broker.start()  # memory storage: the restarted broker starts empty
            records = await read_topic(
                broker.bootstrap_servers,
                TOPIC,
                timeout=30,
                until=lambda rs: all(subjects(rs)[t] >= 1 for t in during),
            )
            await wait_for(lambda: all_published(database))
    finally:
        broker.stop()
    seen = subjects(records)
    assert all(seen[t] == 1 for t in during)
    async with database.transaction() as session:
        unpublished = (
            await session.execute(select(outbox.c.seq).where(outbox.c.published_at.is_(None)))
        ).all()
    assert unpublished == []


async def test_published_rows_are_purged_after_retention(infrastructure, database):
    thing = unique()
    await emit_thing(database, thing, 0)
    async with relays(infrastructure) as (relay,):
        await read_topic(
            infrastructure.bootstrap_servers, TOPIC, until=lambda rs: subjects(rs)[thing] == 1
        )
    async with database.transaction() as session:
        await session.execute(
            # Four days before the database's own now(): the relay purges by the
            # database's clock, whatever clock the test process runs on.
            outbox.update().values(published_at=func.now() - timedelta(days=4))
        )
    async with relays(infrastructure) as (relay,):
        await wait_for(lambda: relay.is_leader)

        async def purged() -> bool:
            async with database.transaction() as session:
                return (await session.execute(select(outbox))).first() is None

        await wait_for(purged, timeout=10)


async def test_emit_records_request_trace_context(infrastructure, database):
    from shared.context import traceparent_var

    traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    token = traceparent_var.set(traceparent)
    try:
        await emit_thing(database, unique(), 0)
    finally:
        traceparent_var.reset(token)
    async with database.transaction() as session:
        row = (await session.execute(select(outbox))).mappings().one()
    assert row["traceparent"] == traceparent
    assert row["jurisdiction"] == "120801"
    assert row["type"] == "kh.gov.sp.platformtest.thing.happened.v1"
    assert row["topic"] == "sp.platformtest.thing"


async def test_bulk_work_on_a_bare_connection_writes_the_same_rows_in_order_and_only_on_commit(
    infrastructure, database
):
    """The importer's path: emit_many on an asyncpg connection (binary COPY, then one NOTIFY)
    writes the envelope emit writes, in the order given, with fresh version-4 ids, and
    nothing when the transaction rolls back."""
    kept, rolled_back = unique("bulk"), unique("bulk-rolled-back")
    connection = await asyncpg.connect(asyncpg_dsn(infrastructure.database_url("platform")))
    try:
        async with connection.transaction():
            written = await emit_many(
                connection,
                [(ThingHappened(thing_id=kept, n=n), kept, "120801") for n in range(5000)],
            )
        assert written == 5000
        with pytest.raises(RuntimeError):
            async with connection.transaction():
                await emit_many(
                    connection, [(ThingHappened(thing_id=rolled_back, n=1), rolled_back, None)]
                )
                raise RuntimeError("rolled back")
        assert await emit_many(connection, []) == 0
    finally:
        await connection.close()
    async with database.transaction() as session:
        rows = (
            (
                await session.execute(
                    select(outbox)
                    .where(outbox.c.aggregate_id.in_([kept, rolled_back]))
                    .order_by(outbox.c.seq)
                )
            )
            .mappings()
            .all()
        )
    assert [r["payload"]["n"] for r in rows] == list(range(5000))
    assert {r["aggregate_id"] for r in rows} == {kept}
    assert len({r["id"] for r in rows}) == 5000
    assert all(r["id"].version == 4 for r in rows)
    assert {(r["type"], r["topic"], r["jurisdiction"]) for r in rows} == {
        (ThingHappened.event_type(), TOPIC, "120801")
    }


async def test_emit_many_writes_the_rows_emit_would_in_order_in_the_callers_transaction(
    infrastructure, database
):
    first, rolled_back = unique("many"), unique("many-rolled-back")
    async with database.transaction() as session:
        await emit(session, ThingHappened(thing_id=first, n=0), subject=first, jurisdiction="1208")
        written = await emit_many(
            session,
            [
                Outgoing(ThingHappened(thing_id=first, n=n), first, "120801" if n % 2 else None)
                for n in range(1, 4)
            ],
        )
        assert written == 3
    with pytest.raises(RuntimeError):
        async with database.transaction() as session:
            await emit_many(
                session, [(ThingHappened(thing_id=rolled_back, n=1), rolled_back, None)]
            )
            raise RuntimeError("rolled back")
    async with database.transaction() as session:
        assert await emit_many(session, []) == 0
        rows = (
            (
                await session.execute(
                    select(outbox)
                    .where(outbox.c.aggregate_id.in_([first, rolled_back]))
                    .order_by(outbox.c.seq)
                )
            )
            .mappings()
            .all()
        )
    single, *many = rows
    assert [r["payload"]["n"] for r in rows] == [0, 1, 2, 3]
    assert [r["jurisdiction"] for r in many] == ["120801", None, "120801"]
    for row in many:
        for column in ("aggregate_type", "aggregate_id", "type", "topic", "dataschema"):
            assert row[column] == single[column]
        assert row["id"] != single["id"] and row["occurred_at"] is not None

    async with relays(infrastructure):
        records = await read_topic(
            infrastructure.bootstrap_servers, TOPIC, until=lambda rs: subjects(rs)[first] >= 4
        )
    published = [e for e in envelopes(records) if e["subject"] == first]
    assert [e["data"]["n"] for e in published] == [0, 1, 2, 3]
