"""The AsyncAPI document says where the brokers are, where dead letters really go, and what
the envelope's extensions mean: what an integrator configures from it must work."""

from __future__ import annotations

import re

import jsonschema

from services.grievance.main import CONSUMERS as GRIEVANCE_CONSUMERS
from services.registry.main import CONSUMERS as REGISTRY_CONSUMERS
from shared.consumer import dead_letter_topic
from shared.events.asyncapi import asyncapi_document
from shared.events.catalog import platform_catalog
from shared.events.envelope import envelope_json_schema
from shared.settings import ServiceSettings

DOCUMENT = asyncapi_document(platform_catalog())


def address_pattern(address: str) -> re.Pattern:
    """An AsyncAPI channel address with `{parameter}`s, as a regular expression."""
    parts = re.split(r"\{[a-z]+\}", address)
    return re.compile("^" + "[a-z0-9_.-]+".join(re.escape(p) for p in parts) + "$")


def test_the_local_server_is_the_broker_make_run_starts_and_the_compose_one_says_so():
    servers = DOCUMENT["servers"]
    assert (
        servers["local"]["host"] == ServiceSettings.model_fields["kafka_bootstrap_servers"].default
    )
    assert servers["compose"]["host"] == "kafka:9092"
    assert "docker-compose.yml" in servers["compose"]["description"]
    production = servers["production"]
    assert production["host"] == "{bootstrap}" and "bootstrap" in production["variables"]
    assert [s for s in servers.values() if s["host"] == "kafka:9092"] == [servers["compose"]]


def test_the_dead_letter_channel_is_where_every_consumer_really_dead_letters():
    channel = DOCUMENT["channels"]["dead_letters"]
    pattern = address_pattern(channel["address"])
    assert set(re.findall(r"\{([a-z]+)\}", channel["address"])) == set(channel["parameters"])
    consumers = [*REGISTRY_CONSUMERS, *GRIEVANCE_CONSUMERS]
    assert consumers
    for consumer in consumers:
        for topic in consumer.topics:
            real = dead_letter_topic(topic, consumer.group)
            assert pattern.match(real), real
            assert real.startswith(f"{topic}.dlq.{consumer.group.split('.')[0]}.")
    assert "x-dlq-error" in DOCUMENT["components"]["messages"]["dead_letter"]["headers"]["required"]


def test_the_envelope_documents_lineage_and_position_and_accepts_them():
    properties = envelope_json_schema()["properties"]
    for extension in ("causationid", "correlationid", "traceparent", "sequence"):
        assert properties[extension].get("description"), extension
    for message in DOCUMENT["components"]["messages"].values():
        if message["name"] == "dead-letter":
            continue
        assert {"causationid", "correlationid"} <= set(message["payload"]["properties"])
    envelope = {
        "specversion": "1.0",
        "id": "0193a5c2-7d1e-7a41-9d5b-5f4e2b1c9a01",
        "source": "/sp/registry",
        "type": "kh.gov.sp.registry.case.opened.v1",
        "subject": "0193a5c2-7d1e-7a41-9d5b-5f4e2b1c9a02",
        "time": "2026-12-06T07:00:00Z",
        "datacontenttype": "application/json",
        "dataschema": "urn:kh-sp:events:kh.gov.sp.registry.case.opened.v1",
        "data": {},
        "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "causationid": "0193a5c2-7d1e-7a41-9d5b-5f4e2b1c9a03",
        "correlationid": "grievance-desk-request-1",
        "sequence": "00000000000000000042",
    }
    jsonschema.validate(envelope, envelope_json_schema())
    assert "causationid" in DOCUMENT["info"]["description"]
