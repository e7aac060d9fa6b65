"""The DCI message envelope `{signature, header, message}`: reading a client's, checking its
header as the standard says, and building ours.

Two levels of "invalid", deliberately different:

- Not a DCI envelope at all (body not a JSON object; `header` or `message` missing or not an
  object; a header field the standard requires missing or of the wrong JSON type; `message`
  without its required list): the transport is wrong and nothing can be answered inside the
  protocol, so the answer is an RFC 9457 problem (4xx) naming the field, as everywhere else
  on the platform.
- A readable envelope whose values are wrong: answered inside the protocol, HTTP 200, with
  the standard's statuses. Header values (version, message_ts, action, total_count,
  duplicate message_id, encryption) reject the whole message: `header.status = rjct` and a
  `MsgHeaderStatusReasonCode` (sync), or `ack_status = ERR` with an `Error` code (async).
  A bad request inside the batch rejects only that item: its `status = rjct` and a
  `SearchStatusReasonCode` / `SubscribeStatusReasonCode`; the other items are answered.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from shared import clock
from shared.problems import Problem, field_error

VERSION = "1.0.0"
REGISTRY_SENDER_ID = "registry.sp.gov.kh"
MAX_BATCH = 20

_REQUIRED_HEADER = {
    "message_id": (str,),
    "message_ts": (str,),
    "action": (str,),
    "sender_id": (str,),
    "total_count": (int, str),
}


class HeaderRejected(Exception):
    """The whole message is rejected; `code` is a MsgHeaderStatusReasonCode, `error` the
    Error code an async acknowledgement carries."""

    def __init__(self, code: str, message: str, *, error: str = "err.request.bad") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.error = error


def now_iso() -> str:
    return clock.now().isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_timestamp(value: Any) -> datetime | None:
    """An ISO 8601 date-time with its timezone, as the standard requires; else None."""
    if not isinstance(value, str) or "T" not in value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def read(body: Any, *, list_field: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and message of a DCI envelope; a 4xx problem when it is not one."""
    if not isinstance(body, dict):
        raise Problem.invalid("body", "a DCI envelope {signature, header, message} is expected")
    errors = []
    header, message = body.get("header"), body.get("message")
    if not isinstance(header, dict):
        errors.append(field_error(["header"], "required: an object"))
    if not isinstance(message, dict):
        errors.append(field_error(["message"], "required: an object"))
    if isinstance(header, dict):
        for name, types in _REQUIRED_HEADER.items():
            value = header.get(name)
            if value is None or isinstance(value, bool) or not isinstance(value, types):
                errors.append(field_error(["header", name], "required by the DCI header schema"))
        if "sender_uri" in header and not isinstance(header["sender_uri"], str | None):
            errors.append(field_error(["header", "sender_uri"], "must be a string"))
    if isinstance(message, dict) and list_field is not None:
        items = message.get(list_field)
        if not isinstance(items, list) or not items:
            errors.append(field_error(["message", list_field], "required: a non-empty list"))
        elif len(items) > MAX_BATCH:
            errors.append(
                field_error(["message", list_field], f"at most {MAX_BATCH} requests per message")
            )
        transaction_id = message.get("transaction_id")
        if not isinstance(transaction_id, str) or len(transaction_id) > 99:
            errors.append(
                field_error(["message", "transaction_id"], "required: a string of at most 99")
            )
    if isinstance(body.get("signature"), dict | list):
        errors.append(field_error(["signature"], "must be a string"))
    if errors:
        fields = ", ".join(e.field for e in errors)
        raise Problem(422, f"Not a valid DCI message: {fields}.", errors=errors)
    return header, message


def check_header(header: dict[str, Any], *, action: str, item_count: int | None) -> None:
    """Raises HeaderRejected with the standard's reason code for a header we refuse."""
    version = header.get("version", VERSION)
    if version != VERSION:
        raise HeaderRejected(
            "rjct.version.invalid",
            f"version {version!r} is not supported; use {VERSION}",
            error="err.version.not_supported",
        )
    if not header["message_id"].strip() or len(header["message_id"]) > 99:
        raise HeaderRejected("rjct.action.invalid", "message_id must be 1 to 99 characters")
    if parse_timestamp(header["message_ts"]) is None:
        raise HeaderRejected(
            "rjct.message_ts.invalid", "message_ts must be an ISO 8601 date-time with timezone"
        )
    if header["action"] != action:
        raise HeaderRejected(
            "rjct.action.invalid", f"action {header['action']!r} does not fit; use {action!r}"
        )
    if not header["sender_id"].strip():
        raise HeaderRejected(
            "rjct.action.invalid", "sender_id must not be empty", error="err.sender_id.invalid"
        )
    total = header["total_count"]
    if isinstance(total, str):
        if not total.strip().isdigit():
            raise HeaderRejected("rjct.total_count.invalid", "total_count must be a whole number")
        total = int(total)
    if item_count is not None:
        if total > MAX_BATCH:
            raise HeaderRejected(
                "rjct.total_count.limit_exceeded", f"at most {MAX_BATCH} requests per message"
            )
        if total != item_count:
            raise HeaderRejected(
                "rjct.total_count.invalid",
                f"total_count {total} does not match the {item_count} requests in the message",
            )
    if header.get("is_msg_encrypted") is True:
        raise HeaderRejected(
            "rjct.action.not_supported",
            "encrypted messages are not supported; the transport is TLS",
            error="err.encryption.invalid",
        )


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _parse_callback_prefix(prefix: str) -> tuple[str, str, int | None, str]:
    """(scheme, host, port or None for any, path) of a registered callback prefix:
    `scheme://host[:port|:*][/path]`, `*` meaning any port."""
    scheme, _, rest = prefix.strip().partition("://")
    netloc, slash, path = rest.partition("/")
    host, colon, port = netloc.rpartition(":") if ":" in netloc else (netloc, "", "")
    host = host.strip("[]")
    if scheme not in _DEFAULT_PORTS or not host or "@" in netloc:
        raise ValueError(f"{prefix!r} is not an http(s) URL prefix (scheme://host[:port|:*]/path)")
    if colon and port != "*" and not port.isdigit():
        raise ValueError(f"{prefix!r}: the port must be a number or *")
    number = None if port == "*" else int(port) if port else _DEFAULT_PORTS[scheme]
    return scheme, host.lower(), number, slash + path


class CallbackAllowList:
    """Where one client may be called back: the URL prefixes registered for it
    (REGISTRY_DCI_CALLBACK_URLS). A callback URL must have a registered prefix's scheme, host
    and port (any port for `:*`), and a path that is the prefix's path or below it. Without
    this the registry would POST to any address a client names, its own network included."""

    def __init__(self, prefixes: list[str] | tuple[str, ...] = ()) -> None:
        self.prefixes = [_parse_callback_prefix(p) for p in prefixes]

    def allows(self, url: str) -> bool:
        parts = urlsplit(url)
        try:
            port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
        except ValueError:
            return False
        host = (parts.hostname or "").lower()
        path = parts.path or "/"
        # A dot segment, plain or percent-encoded, could climb out of the prefix once the
        # receiving server normalises the path.
        segments = path.lower().replace("%2e", ".").split("/")
        if "." in segments or ".." in segments:
            return False
        for scheme, allowed_host, allowed_port, prefix in self.prefixes:
            if (scheme, allowed_host) != (parts.scheme, host):
                continue
            if allowed_port is not None and allowed_port != port:
                continue
            if not prefix or prefix == "/" or path == prefix.rstrip("/"):
                return True
            if path.startswith(prefix if prefix.endswith("/") else prefix + "/"):
                return True
        return False


def check_callback_uri(value: Any, allowed: CallbackAllowList) -> str:
    """An absolute http(s) URL without credentials under one of the client's registered
    prefixes, or HeaderRejected(err.sender_uri.invalid)."""
    if not isinstance(value, str) or not value.strip():
        raise HeaderRejected(
            "rjct.action.invalid",
            "sender_uri is required for callbacks",
            error="err.sender_uri.invalid",
        )
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or len(value) > 2000:
        raise HeaderRejected(
            "rjct.action.invalid",
            "sender_uri must be an http(s) URL",
            error="err.sender_uri.invalid",
        )
    if parts.username or parts.password:
        raise HeaderRejected(
            "rjct.action.invalid",
            "sender_uri must not carry credentials",
            error="err.sender_uri.invalid",
        )
    if not allowed.allows(value.strip()):
        raise HeaderRejected(
            "rjct.action.invalid",
            "sender_uri is not under a callback URL registered for this client",
            error="err.sender_uri.invalid",
        )
    return value.strip()


def callback_header(
    request_header: dict[str, Any] | None,
    *,
    action: str,
    status: str,
    total_count: int,
    completed_count: int,
    reason_code: str | None = None,
    reason_message: str | None = None,
    meta: dict[str, Any] | None = None,
) -> dict[str, Any]:
    header: dict[str, Any] = {
        "version": VERSION,
        "message_id": str(uuid.uuid4()),
        "message_ts": now_iso(),
        "action": action,
        "status": status,
        "total_count": total_count,
        "completed_count": completed_count,
        "sender_id": REGISTRY_SENDER_ID,
        "receiver_id": (request_header or {}).get("sender_id"),
        "is_msg_encrypted": False,
    }
    if reason_code:
        header["status_reason_code"] = reason_code
    if reason_message:
        header["status_reason_message"] = reason_message[:999]
    if meta:
        header["meta"] = meta
    return header


def envelope(header: dict[str, Any], message: dict[str, Any]) -> dict[str, Any]:
    # The registry's answers are not signed (yet): the client authenticated the registry by
    # TLS and it by its OAuth2 token. The field stays, empty, as the standard's shape has it.
    # Clients' messages are verified (signatures.py).
    return {"signature": "", "header": header, "message": message}


def ack(correlation_id: str) -> dict[str, Any]:
    return {
        "message": {
            "ack_status": "ACK",
            "timestamp": now_iso(),
            "correlation_id": correlation_id,
        }
    }


def nack_error(rejected: HeaderRejected) -> dict[str, Any]:
    # The standard requires a correlation_id on every acknowledgement; a rejected message
    # has no work to correlate, so it gets an id of its own, which nothing else carries.
    return {
        "message": {
            "ack_status": "ERR",
            "timestamp": now_iso(),
            "correlation_id": str(uuid.uuid4()),
            "error": {"code": rejected.error, "message": f"{rejected.code}: {rejected.message}"},
        }
    }
