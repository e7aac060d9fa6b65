"""The request path, read once: the path the policy judges is exactly the path the service gets.

A server decodes percent-escapes before routing. If the gateway judged the decoded path and
forwarded it decoded, the service would decode it a second time, so `%252F` would pass the
gateway as one segment and reach the service as two (`/households/x%2Fhistory` authorised as
a household read, served as its history). Here the raw path is split into segments, each is
decoded once and checked, the policy sees those segments, and the service is sent the same
segments re-encoded, so its single decoding gives back exactly what was authorised.

Refused with 400, never forwarded: an encoded slash or backslash inside a segment, dot
segments (`.` and `..`, plain or encoded), control characters (NUL, tab, CR, LF, DEL and the
C1 range), and bytes that are not UTF-8.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote_to_bytes

from shared.problems import Problem

# What a segment may carry unescaped (RFC 3986 pchar); everything else is percent-encoded.
_SEGMENT_SAFE = "!$&'()*+,;=:@-._~"
# A path of such characters only (no escape, no control character, no backslash, no
# non-ASCII byte) decodes to itself and re-encodes to itself: the common case skips the
# per-segment decoding and encoding. Dot segments are still looked for.
_PLAIN = re.compile(rb"[A-Za-z0-9!$&'()*+,;=:@\-._~/]*")


def _bad(detail: str) -> Problem:
    return Problem(400, f"The request path is not acceptable: {detail}.")


def _has_control(text: str) -> bool:
    return any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in text)


@dataclass(frozen=True, slots=True)
class RequestPath:
    decoded: str  # what the policy matches: segments decoded once
    forwarded: str  # what the service is sent: the same segments, canonically encoded


def read_path(raw_path: bytes | None, path: str) -> RequestPath:
    """The request's path from the ASGI scope's `raw_path` (or `path` when a server gives no
    raw path), checked and in its two forms. Raises a 400 problem when it is not acceptable."""
    raw = raw_path if raw_path is not None else quote(path, safe="/" + _SEGMENT_SAFE).encode()
    raw = raw.split(b"?", 1)[0]
    if not raw.startswith(b"/"):
        raise _bad("it must start with /")
    if _PLAIN.fullmatch(raw):
        if b"." in raw and any(s in (b".", b"..") for s in raw[1:].split(b"/")):
            raise _bad("dot segments are not allowed")
        text = raw.decode("ascii")
        return RequestPath(decoded=text, forwarded=text)
    decoded_segments: list[str] = []
    for piece in raw[1:].split(b"/"):
        try:
            segment = unquote_to_bytes(piece).decode("utf-8")
        except UnicodeDecodeError:
            raise _bad("it is not UTF-8") from None
        if "/" in segment or "\\" in segment:
            raise _bad("a segment holds an encoded slash")
        if segment in (".", ".."):
            raise _bad("dot segments are not allowed")
        if _has_control(segment):
            raise _bad("it holds a control character")
        decoded_segments.append(segment)
    return RequestPath(
        decoded="/" + "/".join(decoded_segments),
        forwarded="/" + "/".join(quote(s, safe=_SEGMENT_SAFE) for s in decoded_segments),
    )
