"""The CloudEvents envelope as published, and the AsyncAPI document from the catalog."""

from __future__ import annotations

import json

import jsonschema
import pytest

from shared.db.engine import Database
from shared.events.asyncapi import asyncapi_document
from shared.events.catalog import platform_catalog
from shared.events.envelope import envelope_json_schema, parse_envelope
from shared.events.model import DomainEvent, EventCatalog
from shared.outbox import OutboxRelay, emit
from tests.harness import envelopes, read_topic, unique
from tests.shared.sample_events import ThingHappened, catalog

REQUIRED = {
    "specversion",
    "id",
    "source",
    "type",
    "subject",
    "time",
    "datacontenttype",
    "dataschema",
    "data",
}


async def test_the_published_envelope_carries_every_attribute_and_validates(
    infrastructure, clean_databases
):
    thing = unique()
    db = Database(infrastructure.database_url("platform"))
    async with db.transaction() as session:
        event_id = await emit(
            session, ThingHappened(thing_id=thing, n=7), subject=thing, jurisdiction="120801"
        )
    relay = OutboxRelay(
        service="platformtest",
        database_url=db.url,
        bootstrap_servers=infrastructure.bootstrap_servers,
        poll_interval=0.2,
    )
    relay.start()
    try:
        records = await read_topic(
            infrastructure.bootstrap_servers,
            ThingHappened.topic(),
            until=lambda rs: any(e["subject"] == thing for e in envelopes(rs)),
        )
    finally:
        await relay.stop()
        await db.dispose()
    record = next(r for r in records if [e["subject"] for e in envelopes([r])] == [thing])
    envelope = json.loads(record.value)

    assert envelope.keys() >= REQUIRED
    assert envelope["specversion"] == "1.0"
    assert envelope["id"] == str(event_id)
    assert envelope["source"] == "/sp/platformtest"
    assert envelope["type"] == "kh.gov.sp.platformtest.thing.happened.v1"
    assert envelope["datacontenttype"] == "application/json"
    assert envelope["jurisdiction"] == "120801"
    assert envelope["data"] == {"thing_id": thing, "n": 7, "fail": False}
    assert dict(record.headers)["content-type"] == b"application/cloudevents+json"
    validator = jsonschema.Draft202012Validator(
        envelope_json_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    validator.validate(envelope)
    jsonschema.validate(envelope["data"], ThingHappened.json_schema())
    assert parse_envelope(record.value).subject == thing


def test_the_envelope_schema_rejects_a_missing_attribute():
    envelope = {
        "specversion": "1.0",
        "id": "1",
        "source": "/sp/registry",
        "type": "kh.gov.sp.registry.household.registered.v1",
        "subject": "h",
        "time": "2026-11-21T10:00:00Z",
        "datacontenttype": "application/json",
        "dataschema": "urn:x",
        "data": {},
        "sequence": "00000000000000000001",
    }
    jsonschema.validate(envelope, envelope_json_schema())
    for attribute in ("id", "source", "type", "specversion"):
        broken = {k: v for k, v in envelope.items() if k != attribute}
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(broken, envelope_json_schema())


def test_event_names_follow_the_platform_convention():
    assert ThingHappened.event_type() == "kh.gov.sp.platformtest.thing.happened.v1"
    assert ThingHappened.topic() == "sp.platformtest.thing"
    assert ThingHappened.source() == "/sp/platformtest"
    assert ThingHappened.json_schema()["$id"] == ThingHappened.dataschema()


def test_a_type_cannot_be_registered_twice_with_different_models():
    other = EventCatalog()
    other.register(ThingHappened)

    class Impostor(DomainEvent):
        service = "platformtest"
        aggregate = "thing"
        name = "happened"

    with pytest.raises(ValueError, match="registered twice"):
        other.register(Impostor)


def test_the_asyncapi_document_describes_every_event():
    document = asyncapi_document(catalog)
    assert document["asyncapi"] == "3.0.0"
    channel = document["channels"]["sp_platformtest_thing"]
    assert channel["address"] == "sp.platformtest.thing"
    message = document["components"]["messages"]["platformtest_thing_happened_v1"]
    assert message["contentType"] == "application/cloudevents+json"
    payload = message["payload"]
    assert payload["properties"]["type"]["const"] == ThingHappened.event_type()
    data_ref = payload["properties"]["data"]["$ref"].split("/")[-1]
    assert set(document["components"]["schemas"][data_ref]["properties"]) == {
        "thing_id",
        "n",
        "fail",
    }
    operation = document["operations"]["publish_sp_platformtest_thing"]
    assert operation["action"] == "send"
    assert operation["messages"] == [
        {"$ref": "#/channels/sp_platformtest_thing/messages/platformtest_thing_happened_v1"}
    ]


def test_the_platform_catalog_loads():
    # No service publishes events yet; the catalog must still load and produce a document.
    document = asyncapi_document(platform_catalog())
    assert document["asyncapi"] == "3.0.0"
    assert set(document["channels"]) == {
        *(t.replace(".", "_") for t in platform_catalog().topics()),
        "dead_letters",
    }


def test_the_committed_asyncapi_document_is_current():
    from tests.harness import ROOT

    committed = json.loads((ROOT / "docs" / "asyncapi.json").read_text())
    assert committed == asyncapi_document(platform_catalog()), "run `make asyncapi`"
