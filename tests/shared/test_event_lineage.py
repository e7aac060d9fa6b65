"""Event lineage: every event says what caused it (`causationid`), which chain it belongs to
(`correlationid`) and carries the trace (`traceparent`) of the request or the consumed event
that caused it, so an integrator can rebuild the story of a change from the events alone."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from shared.consumer import ConsumerRunner, EventConsumer
from shared.context import parse_traceparent, request_id_var, traceparent_var
from shared.db.engine import Database
from shared.db.platform_tables import outbox
from shared.events.envelope import CloudEvent, encode, parse_envelope
from shared.outbox import OutboxRelay, Outgoing, emit, emit_many
from tests.harness import envelopes, produce, read_topic, unique, wait_for
from tests.shared.sample_events import ThingHappened

TOPIC = ThingHappened.topic()
TRACE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


@pytest.fixture
async def database(infrastructure, clean_databases):
    db = Database(infrastructure.database_url("platform"))
    yield db
    await db.dispose()


async def outbox_rows(db: Database) -> list[dict]:
    async with db.transaction() as session:
        rows = await session.execute(select(outbox).order_by(outbox.c.seq))
        return [dict(r) for r in rows.mappings()]


async def test_an_event_emitted_in_a_request_is_caused_by_that_request(database):
    thing = unique("lineage")
    tokens = request_id_var.set("field-office-42"), traceparent_var.set(TRACE)
    try:
        async with database.transaction() as session:
            await emit(
                session, ThingHappened(thing_id=thing, n=1), subject=thing, jurisdiction=None
            )
            await emit_many(session, [Outgoing(ThingHappened(thing_id=thing, n=2), thing, None)])
    finally:
        traceparent_var.reset(tokens[1])
        request_id_var.reset(tokens[0])

    rows = await outbox_rows(database)
    assert [(r["causationid"], r["correlationid"], r["traceparent"]) for r in rows] == [
        ("field-office-42", "field-office-42", TRACE)
    ] * 2, "emit and emit_many record the same lineage"


async def test_an_event_emitted_outside_any_request_or_event_starts_no_chain(database):
    thing = unique("lineage")
    async with database.transaction() as session:
        await emit(session, ThingHappened(thing_id=thing, n=1), subject=thing, jurisdiction=None)
    [row] = await outbox_rows(database)
    assert (row["causationid"], row["correlationid"], row["traceparent"]) == (None, None, None)


async def test_the_relay_publishes_the_lineage_as_cloudevents_extensions(infrastructure, database):
    thing = unique("lineage")
    token = request_id_var.set("portal-request-7")
    try:
        async with database.transaction() as session:
            await emit(
                session, ThingHappened(thing_id=thing, n=1), subject=thing, jurisdiction=None
            )
    finally:
        request_id_var.reset(token)
    relay = OutboxRelay(
        service="platformtest",
        database_url=infrastructure.database_url("platform"),
        bootstrap_servers=infrastructure.bootstrap_servers,
        poll_interval=0.2,
    )
    relay.start()
    try:
        records = await read_topic(
            infrastructure.bootstrap_servers,
            TOPIC,
            until=lambda rs: any(e["subject"] == thing for e in envelopes(rs)),
        )
    finally:
        await relay.stop()
    [published] = [e for e in envelopes(records) if e["subject"] == thing]
    assert published["causationid"] == "portal-request-7"
    assert published["correlationid"] == "portal-request-7"
    assert parse_envelope(encode(CloudEvent(**published))).causationid == "portal-request-7"


# A consumer whose handler emits a follow-up event for the things of this module only (the
# topic is shared with the consumer runner's own tests).
PREFIX = "lineage-chain"
chain = EventConsumer("platformtest", f"lineage-{uuid.uuid4().hex[:8]}")


@chain.on(ThingHappened)
async def follow_up(session, event: ThingHappened, envelope: CloudEvent) -> None:
    if event.thing_id.startswith(PREFIX) and event.n == 1:
        await emit(
            session,
            ThingHappened(thing_id=event.thing_id, n=2),
            subject=event.thing_id,
            jurisdiction=None,
        )


async def test_an_event_emitted_by_a_consumer_is_caused_by_the_consumed_event_in_its_trace(
    infrastructure, database
):
    runner = ConsumerRunner(
        chain,
        database=database,
        bootstrap_servers=infrastructure.bootstrap_servers,
        retry_backoff=0.01,
    )
    runner.start()
    try:
        thing, consumed_id = unique(PREFIX), str(uuid.uuid4())
        cause = ThingHappened(thing_id=thing, n=1)
        consumed = CloudEvent(
            id=consumed_id,
            source=ThingHappened.source(),
            type=ThingHappened.event_type(),
            subject=thing,
            time=datetime.now(UTC),
            dataschema=ThingHappened.dataschema(),
            data=cause.model_dump(mode="json"),
            traceparent=TRACE,
            causationid="field-office-42",
            correlationid="field-office-42",
            sequence="00000000000000000001",
        )
        await produce(infrastructure.bootstrap_servers, TOPIC, encode(consumed), key=b"chain")

        async def follow_ups() -> list[dict]:
            return [r for r in await outbox_rows(database) if r["aggregate_id"] == thing]

        [row] = await wait_for(follow_ups, timeout=60)
    finally:
        await runner.stop()

    assert row["causationid"] == consumed_id, "caused by the consumed event"
    assert row["correlationid"] == "field-office-42", "the chain's correlation is kept"
    trace_id, span_id, _ = parse_traceparent(row["traceparent"])
    assert trace_id == parse_traceparent(TRACE)[0], "the consumed event's trace goes on"
    assert span_id != parse_traceparent(TRACE)[1], "with a span of the consumer's own"
