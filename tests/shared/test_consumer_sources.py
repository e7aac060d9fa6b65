"""A consumer applies an event only from the service that owns its type, on that type's own
topic: a forged `source` or an event pushed onto another topic is dead-lettered, never applied
(the registry's forged `household.updated` moved a household into another commune's read model
before this check)."""

from __future__ import annotations

import json

import pytest

from shared.consumer import PoisonMessage, dead_letter_topic
from tests.harness import produce, read_topic, unique, wait_for
from tests.shared.test_consumer import (  # noqa: F401 - the session's runner fixture
    TOPIC,
    consumer,
    effect_count,
    envelope_for,
    runner,
)


def forged(thing_id: str, **changes) -> bytes:
    envelope = json.loads(envelope_for(thing_id, 1))
    envelope.update(changes)
    return json.dumps(envelope).encode()


async def test_an_event_claiming_another_source_is_dead_lettered(infrastructure, runner):  # noqa: F811
    key = unique("forged").encode()
    thing, after = unique("forged-thing"), unique("after-forged")
    await produce(
        infrastructure.bootstrap_servers, TOPIC, forged(thing, source="/sp/grievance"), key=key
    )
    await produce(infrastructure.bootstrap_servers, TOPIC, envelope_for(after, 1), key=key)
    await wait_for(lambda: effect_count(runner, after))
    assert await effect_count(runner, thing) == 0
    records = await read_topic(
        infrastructure.bootstrap_servers,
        dead_letter_topic(TOPIC, consumer.group),
        until=lambda rs: any(r.key == key for r in rs),
    )
    dead = next(r for r in records if r.key == key)
    assert b"not /sp/grievance" in dict(dead.headers)["x-dlq-error"]


def test_an_event_on_a_topic_not_its_own_is_refused(runner):  # noqa: F811
    """A producer allowed on some topic cannot pass an event off as another service's there."""
    thing = unique("wrong-topic")
    _, model, handler = runner._decode(forged(thing), TOPIC)
    assert model.thing_id == thing and handler is not None
    with pytest.raises(PoisonMessage, match=r"belongs on sp\.platformtest\.thing"):
        runner._decode(forged(thing), "sp.grievance.grievance")
