"""The replay tools: outbox rows published again, dead letters moved back to their topic."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from sqlalchemy import select

from shared.db.engine import Database
from shared.db.platform_tables import outbox
from shared.dead_letters import main as dead_letters_main
from shared.dead_letters import move_back
from shared.outbox import OutboxRelay, emit
from shared.outbox.replay import main as replay_main
from shared.outbox.replay import requeue
from tests.harness import envelopes, produce, read_topic, unique, wait_for
from tests.shared.sample_events import ThingHappened

TOPIC = ThingHappened.topic()


@pytest.fixture
async def database(infrastructure, clean_databases):
    db = Database(infrastructure.database_url("platform"))
    yield db
    await db.dispose()


async def published(db: Database) -> bool:
    async with db.transaction() as session:
        rows = (await session.execute(select(outbox.c.published_at))).scalars().all()
    return bool(rows) and all(rows)


async def test_outbox_rows_are_published_again_from_a_sequence_number_with_their_ids(
    infrastructure, database, capsys
):
    things = [unique("replayed") for _ in range(3)]
    for thing in things:
        async with database.transaction() as session:
            await emit(
                session, ThingHappened(thing_id=thing, n=0), subject=thing, jurisdiction=None
            )
    relay = OutboxRelay(
        service="platformtest",
        database_url=infrastructure.database_url("platform"),
        bootstrap_servers=infrastructure.bootstrap_servers,
        poll_interval=0.2,
    )
    relay.start()
    try:
        await wait_for(lambda: published(database))
        async with database.transaction() as session:
            seqs = (await session.execute(select(outbox.c.seq).order_by(outbox.c.seq))).all()
        result = await requeue(infrastructure.database_url("platform"), from_seq=seqs[1][0])
        assert result.rows == 2 and result.first_seq == seqs[1][0]

        def seen(records) -> Counter:
            return Counter(e["id"] for e in envelopes(records) if e["subject"] in things)

        records = await read_topic(
            infrastructure.bootstrap_servers,
            TOPIC,
            until=lambda rs: sorted(seen(rs).values()) == [1, 2, 2],
        )
        # The command line: the same, by time; every row of this test occurred after it began.
        await wait_for(lambda: published(database))
        arguments = ["--database-url", infrastructure.database_url("platform")]
        arguments += ["--since", "2000-01-01T00:00+07:00", "--topic", TOPIC]
        assert await asyncio.to_thread(replay_main, arguments) == 0
        assert "3 outbox rows queued for publication again" in capsys.readouterr().out
        records = await read_topic(
            infrastructure.bootstrap_servers,
            TOPIC,
            until=lambda rs: sorted(seen(rs).values()) == [2, 3, 3],
        )
    finally:
        await relay.stop()
    by_subject = {e["subject"]: e["id"] for e in envelopes(records) if e["subject"] in things}
    assert len(set(by_subject.values())) == 3, "each event keeps its one id"


async def test_dead_letters_go_back_to_their_topic_once(infrastructure, capsys):
    original = f"sp.platformtest.{unique('replay')}"
    dead = f"{original}.dlq.platformtest.library-tests"
    keys = [unique("dead").encode() for _ in range(2)]
    for key in keys:
        await produce(infrastructure.bootstrap_servers, dead, b'{"an": "event"}', key=key)

    assert await move_back(infrastructure.bootstrap_servers, dead, idle_seconds=1) == 2
    records = await read_topic(
        infrastructure.bootstrap_servers,
        original,
        until=lambda rs: {r.key for r in rs} >= set(keys),
    )
    assert sorted(r.key for r in records) == sorted(keys)
    assert all(r.value == b'{"an": "event"}' for r in records)
    assert all(dict(r.headers)["x-dlq-replayed-from"] == dead.encode() for r in records)

    # A second run moves nothing more: its progress was committed.
    arguments = ["--bootstrap-servers", infrastructure.bootstrap_servers, dead]
    assert await asyncio.to_thread(dead_letters_main, arguments) == 0
    assert "0 messages moved" in capsys.readouterr().out


async def test_only_a_dead_letter_topic_is_moved(infrastructure):
    with pytest.raises(ValueError, match="not a dead-letter topic"):
        await move_back(infrastructure.bootstrap_servers, TOPIC)
