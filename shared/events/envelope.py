"""The CloudEvents 1.0 envelope in structured JSON mode.

The relay builds the envelope from an outbox row at publication time (the `sequence`
extension is the row's `seq`, known only after insert). Consumers parse it back here.
Extensions: `jurisdiction`, `traceparent` (W3C trace context, carried across consumers),
`causationid` and `correlationid` (what caused the event, and what started its chain) and
`sequence` (the outbox position, in publication order).
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

CONTENT_TYPE = "application/cloudevents+json"


class CloudEvent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    specversion: str = "1.0"
    id: str = Field(min_length=1)
    source: str = Field(min_length=1)
    type: str = Field(min_length=1)
    subject: str = Field(min_length=1)
    time: datetime
    datacontenttype: str = "application/json"
    dataschema: str
    data: dict[str, Any]
    jurisdiction: str | None = None
    traceparent: str | None = None
    # What caused this event: the id of the HTTP request (X-Request-ID) or of the consumed
    # event; and the id of the request (or the first event) that started the chain.
    causationid: str | None = None
    correlationid: str | None = None
    # Zero-padded so that string order is publication order (CloudEvents sequence extension).
    sequence: str


def format_sequence(seq: int) -> str:
    return f"{seq:020d}"


def _column(row: Any, name: str) -> Any:
    # A row read without the lineage columns (a relay query older than them) has none.
    try:
        return row[name]
    except (KeyError, IndexError):
        return None


def build_envelope(row: Any, source: str) -> CloudEvent:
    """The envelope for one outbox row (a mapping or row object with the outbox columns)."""
    return CloudEvent(
        id=str(row["id"]),
        source=source,
        type=row["type"],
        subject=row["aggregate_id"],
        time=row["occurred_at"],
        dataschema=row["dataschema"],
        data=row["payload"] if isinstance(row["payload"], dict) else json.loads(row["payload"]),
        jurisdiction=row["jurisdiction"],
        traceparent=row["traceparent"],
        causationid=_column(row, "causationid"),
        correlationid=_column(row, "correlationid"),
        sequence=format_sequence(row["seq"]),
    )


def encode(event: CloudEvent) -> bytes:
    return event.model_dump_json().encode()


def parse_envelope(raw: bytes) -> CloudEvent:
    """Raises pydantic.ValidationError (or ValueError) for anything that is not our envelope."""
    return CloudEvent.model_validate_json(raw)


@cache
def envelope_json_schema() -> dict[str, Any]:
    return json.loads((Path(__file__).parent / "cloudevents.schema.json").read_text())
