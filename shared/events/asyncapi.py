"""An AsyncAPI 3.0 document generated from an event catalog.

One channel per topic; one message per event type, whose payload is the CloudEvents envelope
with `data` set to that event's JSON Schema; one dead-letter channel per topic, whose address
is the one the consumer runner writes to (`shared.consumer.dead_letter_topic`). Servers: the
local stack's broker (`make run`), the compose file's and a production placeholder.
`python -m shared.events.asyncapi` prints the platform's document (what `make asyncapi` writes
to docs/asyncapi.json).
"""

from __future__ import annotations

import copy
import inspect
import json
import sys
from typing import Any

from shared.consumer import dead_letter_topic
from shared.events.envelope import CONTENT_TYPE, envelope_json_schema
from shared.events.model import EventCatalog
from shared.settings import ServiceSettings

# Where the brokers are. The local one is the default of KAFKA_BOOTSTRAP_SERVERS (the Tansu
# broker `make run` starts); the others are described, not guessed.
SERVERS: dict[str, Any] = {
    "local": {
        "host": ServiceSettings.model_fields["kafka_bootstrap_servers"].default,
        "protocol": "kafka",
        "title": "Local stack",
        "description": "The Kafka-protocol broker (Tansu) that `make run` starts, in memory, on "
        "`SP_BROKER_PORT` (default 19092). PLAINTEXT, no authentication.",
    },
    "compose": {
        "host": "kafka:9092",
        "protocol": "kafka",
        "title": "docker compose",
        "description": "The Apache Kafka broker of `docker-compose.yml`, reachable by that name "
        "only from the containers of the compose network. PLAINTEXT.",
    },
    "production": {
        "host": "{bootstrap}",
        "protocol": "kafka",
        "title": "Production",
        "description": "The brokers of `KAFKA_BOOTSTRAP_SERVERS` in the deployment's "
        "ConfigMap (deploy/k8s/configmap.yaml; a placeholder there until the operator sets "
        "it). Each service may write only its own topics (broker ACLs).",
        "variables": {
            "bootstrap": {
                "description": "host:port of the brokers, comma-separated.",
                "default": "kafka-0.kafka.example.gov.kh:9092",
            }
        },
    },
}

# The consumer runner's dead-letter address, with its parts as AsyncAPI channel parameters.
DEAD_LETTER_ADDRESS = dead_letter_topic("{topic}", "{service}.{consumer}")
DEAD_LETTER_HEADERS = {
    "x-dlq-consumer": "The consumer group that gave up: `<service>.<consumer>`.",
    "x-dlq-error": "The error (type and message, at most 2000 characters).",
    "x-dlq-original-topic": "The topic the message was read from.",
    "x-dlq-original-partition": "Its partition there.",
    "x-dlq-original-offset": "Its offset there.",
}


def _component_name(event_type: str) -> str:
    return event_type.removeprefix("kh.gov.sp.").replace(".", "_")


def asyncapi_document(
    catalog: EventCatalog, *, version: str = "0.1.0", servers: dict[str, Any] | None = None
) -> dict[str, Any]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for event in catalog:
        name = _component_name(event.event_type())
        data_schema = event.json_schema()
        defs = data_schema.pop("$defs", {})
        for def_name, definition in defs.items():
            schemas.setdefault(def_name, definition)
        data_schema = json.loads(
            json.dumps(data_schema).replace("#/$defs/", "#/components/schemas/")
        )
        schemas[f"{name}_data"] = data_schema
        envelope = copy.deepcopy(envelope_json_schema())
        envelope.pop("$schema", None)
        envelope["$id"] = f"{event.dataschema()}:envelope"
        envelope["properties"]["type"] = {"type": "string", "const": event.event_type()}
        envelope["properties"]["source"] = {"type": "string", "const": event.source()}
        envelope["properties"]["dataschema"] = {"type": "string", "const": event.dataschema()}
        envelope["properties"]["data"] = {"$ref": f"#/components/schemas/{name}_data"}
        messages[name] = {
            "name": event.event_type(),
            "title": event.__name__,
            "summary": event.summary or (event.__doc__ or "").strip().split("\n")[0],
            **({"description": inspect.cleandoc(event.__doc__)} if event.__doc__ else {}),
            "contentType": CONTENT_TYPE,
            "headers": {
                "type": "object",
                "properties": {"content-type": {"type": "string", "const": CONTENT_TYPE}},
            },
            "payload": envelope,
            "bindings": {
                "kafka": {
                    "key": {
                        "type": "string",
                        "description": "The aggregate id (CloudEvents subject).",
                    }
                }
            },
        }
        topic = event.topic()
        channel_id = topic.replace(".", "_")
        channel = channels.setdefault(
            channel_id,
            {
                "address": topic,
                "description": f"Events about the {event.service} service's {event.aggregate} "
                "aggregate, keyed by aggregate id (ordered per aggregate).",
                "messages": {},
            },
        )
        channel["messages"][name] = {"$ref": f"#/components/messages/{name}"}
        operations[f"publish_{channel_id}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{channel_id}"},
            "summary": f"The {event.service} service publishes {topic}.",
            "messages": [],
        }
    for op_id, operation in operations.items():
        channel_id = op_id.removeprefix("publish_")
        operation["messages"] = [
            {"$ref": f"#/channels/{channel_id}/messages/{m}"}
            for m in channels[channel_id]["messages"]
        ]
    channels["dead_letters"] = {
        "address": DEAD_LETTER_ADDRESS,
        "title": "Dead letters of a consumer",
        "description": "A message a consumer could not handle (not our envelope, data failing "
        "its model, another service's source or topic, or a handler failing every retry) is "
        "copied here unchanged, key and headers included, with the `x-dlq-*` headers added; "
        "consumption of the original topic goes on. One such topic per consumed topic and "
        "consumer group, created by the consumer when it starts; e.g. "
        f"`{dead_letter_topic('sp.grievance.grievance', 'registry.grievance-outcomes')}`.",
        "parameters": {
            "topic": {"description": "The consumed topic, e.g. `sp.grievance.grievance`."},
            "service": {"description": "The consuming service, e.g. `registry`."},
            "consumer": {"description": "The consumer's name in its service."},
        },
        "messages": {"dead_letter": {"$ref": "#/components/messages/dead_letter"}},
    }
    operations["dead_letter"] = {
        "action": "send",
        "channel": {"$ref": "#/channels/dead_letters"},
        "summary": "A consumer dead-letters a message it cannot handle.",
        "messages": [{"$ref": "#/channels/dead_letters/messages/dead_letter"}],
    }
    messages["dead_letter"] = {
        "name": "dead-letter",
        "title": "Dead letter",
        "summary": "The original message's bytes, unchanged, with why it was given up.",
        "headers": {
            "type": "object",
            "properties": {
                name: {"type": "string", "description": text}
                for name, text in DEAD_LETTER_HEADERS.items()
            },
            "required": list(DEAD_LETTER_HEADERS),
        },
        "payload": {
            "description": "The bytes as read: usually an envelope of this document, or "
            "whatever failed to parse as one."
        },
    }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": catalog.title,
            "version": version,
            "description": (
                "CloudEvents 1.0 (structured JSON) published through each service's "
                "transactional outbox. Delivery is at least once, ordered per aggregate; "
                "deduplicate on (source, id). Every envelope carries the extensions "
                "`jurisdiction`, `traceparent` (W3C trace context, continued by each consumer "
                "with a span of its own), `causationid` (the HTTP request id, or the id of the "
                "consumed event, that caused it), `correlationid` (the request, or first "
                "event, that started the chain) and `sequence` (the outbox position). A late "
                "subscriber catches up from a snapshot (`GET /registry/snapshots/households`, "
                "`GET /grievance/snapshots/grievances`: the state and the `position` it "
                "reflects) and then applies the events whose `sequence` is greater. Dead "
                "letters of a consumer go to "
                f"`{DEAD_LETTER_ADDRESS}`."
            ),
        },
        "servers": servers or copy.deepcopy(SERVERS),
        "defaultContentType": CONTENT_TYPE,
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


def main() -> None:
    from shared.events.catalog import platform_catalog

    json.dump(asyncapi_document(platform_catalog()), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
