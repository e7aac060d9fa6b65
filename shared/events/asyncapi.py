"""An AsyncAPI 3.0 document generated from an event catalog.

One channel per topic; one message per event type, whose payload is the CloudEvents envelope
with `data` set to that event's JSON Schema. `python -m shared.events.asyncapi` prints the
platform's document (what `make asyncapi` writes to docs/asyncapi.json).
"""

from __future__ import annotations

import copy
import inspect
import json
import sys
from typing import Any

from shared.events.envelope import CONTENT_TYPE, envelope_json_schema
from shared.events.model import EventCatalog


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
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": catalog.title,
            "version": version,
            "description": (
                "CloudEvents 1.0 (structured JSON) published through each service's "
                "transactional outbox. Delivery is at least once, ordered per aggregate; "
                "deduplicate on (source, id). Dead letters of a consumer go to "
                "`<topic>.dlq.<consumer>`."
            ),
        },
        "servers": servers
        or {
            "kafka": {
                "host": "kafka:9092",
                "protocol": "kafka",
                "description": "KAFKA_BOOTSTRAP_SERVERS",
            }
        },
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
