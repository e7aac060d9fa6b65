"""Per-request context that outlives the HTTP layer: request id, W3C trace context and the
lineage (causation and correlation) of the events written while it is set.

Middleware sets these for a request, the consumer runner for each event it handles; logs and
emitted events read them, so an event can be traced back to the request or the event that
caused it (`causationid`), and to the request that started the whole chain (`correlationid`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
traceparent_var: ContextVar[str | None] = ContextVar("traceparent", default=None)
# Set while a consumed event is handled; unset during a request, whose id is both the cause
# and the correlation of what it emits.
causation_var: ContextVar[str | None] = ContextVar("causation", default=None)
correlation_var: ContextVar[str | None] = ContextVar("correlation", default=None)

_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def valid_request_id(value: str | None) -> str | None:
    """A client's X-Request-ID if it is safe to log and echo, else None."""
    if value and _REQUEST_ID.match(value):
        return value
    return None


def new_request_id() -> str:
    return os.urandom(16).hex()


def parse_traceparent(value: str | None) -> tuple[str, str, str] | None:
    """(trace_id, parent_id, flags) of a valid version-00 traceparent header."""
    if not value:
        return None
    match = _TRACEPARENT.match(value.strip().lower())
    if not match:
        return None
    trace_id, parent_id, flags = match.groups()
    if trace_id == "0" * 32 or parent_id == "0" * 16:
        return None
    return trace_id, parent_id, flags


def child_traceparent(incoming: str | None) -> str:
    """A traceparent for this hop: same trace as the caller's, our own span id."""
    parsed = parse_traceparent(incoming)
    # One read of the OS's randomness for both ids: this runs on every request.
    random = os.urandom(24).hex()
    trace_id = parsed[0] if parsed else random[:32]
    flags = parsed[2] if parsed else "01"
    return f"00-{trace_id}-{random[32:]}-{flags}"


def event_lineage() -> tuple[str | None, str | None]:
    """(causationid, correlationid) for an event emitted now: inside a consumer, the consumed
    event's id and its correlation; inside a request, the request id for both; None outside
    either (a scheduled pass such as the SLA sweep starts a chain of its own)."""
    request_id = request_id_var.get()
    return causation_var.get() or request_id, correlation_var.get() or request_id


@contextmanager
def consuming(
    event_id: str, *, traceparent: str | None, correlationid: str | None
) -> Iterator[None]:
    """The context of handling one consumed event: what the handler emits is caused by that
    event, keeps the chain's correlation (the event's own id when it had none) and continues
    its trace with a span of our own (a new trace when the event carried none)."""
    tokens = (
        causation_var.set(event_id),
        correlation_var.set(correlationid or event_id),
        traceparent_var.set(child_traceparent(traceparent)),
    )
    try:
        yield
    finally:
        traceparent_var.reset(tokens[2])
        correlation_var.reset(tokens[1])
        causation_var.reset(tokens[0])
