"""Per-request context that outlives the HTTP layer: request id and W3C trace context.

Middleware sets these; logs and emitted events read them, so an event can be traced back to
the request that caused it.
"""

from __future__ import annotations

import os
import re
from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
traceparent_var: ContextVar[str | None] = ContextVar("traceparent", default=None)

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
