"""Answers a client may cache: a strong `ETag` from the body, `If-None-Match` answered 304.

Reference data (code lists, the gazetteer) changes with a release, not per request; a portal
keeps its copy and revalidates it for the price of a 304.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
from fastapi import Request, Response

CACHE_CONTROL = "public, max-age=3600, must-revalidate"


def cached_json(request: Request, content: Any, *, vary: str = "Accept-Language") -> Response:
    body = orjson.dumps(content)
    tag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"ETag": tag, "Cache-Control": CACHE_CONTROL, "Vary": vary}
    language = content.get("language") if isinstance(content, dict) else None
    if language:
        headers["Content-Language"] = language
    wanted = request.headers.get("if-none-match")
    if wanted and (wanted.strip() == "*" or tag in {t.strip() for t in wanted.split(",")}):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


NOT_MODIFIED = {
    304: {"description": "Not modified: the copy named in If-None-Match is still current."}
}
ETAG_HEADERS = {
    "ETag": {
        "description": "The version of this answer; send it in If-None-Match to revalidate.",
        "schema": {"type": "string"},
    },
    "Cache-Control": {"description": "How long to keep it.", "schema": {"type": "string"}},
}
IF_NONE_MATCH = {
    "description": "The ETag of the copy the client holds: 304 when it is still current.",
    "examples": ['"0f3c9a"'],
}
