"""Text from outside, checked at the edge: no control characters reach a service's code.

PostgreSQL refuses a NUL character in text; before this guard, one `\\u0000` in a public
grievance, a member search or a household lookup made the service answer 500, reset its pooled
connection and logged the statement, so a handful of anonymous posts opened the gateway's
circuit breaker for everyone. Other control characters are not errors to the database, but no
name, code, address or description has a use for them, and they hide text from the people
reading it (a bell, an escape sequence, a direction override does not; see below).

Two layers, so that no route can forget:

- `ControlCharacterGuard`, a pure ASGI middleware every service runs (`create_service_app`):
  a query parameter or a JSON string (at any depth, keys included) holding a control
  character is answered 422 with a problem document naming the field, before any route runs.
  Bodies are scanned for the escape only when their bytes could hold one, so an ordinary
  request pays one substring search.
- `Text` and `Line`, the validated string types for request models: `Text` allows tab and
  line breaks (descriptions, notes), `Line` allows neither (names, codes, addresses). They
  state the rule in the OpenAPI document and catch strings that reach a model by other ways
  (CSV imports, events).
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any
from urllib.parse import parse_qsl

from pydantic import AfterValidator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.problems import Problem, field_error, problem_response

# C0 controls but tab, line feed and carriage return; DEL; C1 controls.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Single-line text allows no tab or line break either.
_CONTROL_OR_BREAK = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# A JSON body can hold a control character only as an escape (\u00XX) or a raw byte < 0x20
# (invalid JSON, which the framework refuses anyway) or as a raw DEL/C1 character.
_MAYBE_CONTROL_IN_JSON = re.compile(
    rb"\\u00[01][0-9a-fA-F]|\\u007[fF]|\\u00[89][0-9a-fA-F]|\x7f|\xc2[\x80-\x9f]"
)

CONTROL_REASON = "must not contain control characters"


def has_control_characters(value: str) -> bool:
    return _CONTROL.search(value) is not None


def without_control_characters(value: str) -> str:
    return _CONTROL.sub("", value)


def _no_control(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError(CONTROL_REASON)
    return value


def _one_line(value: str) -> str:
    if _CONTROL_OR_BREAK.search(value):
        raise ValueError("must be one line, without control characters")
    return value


Text = Annotated[str, AfterValidator(_no_control)]
Line = Annotated[str, AfterValidator(_one_line)]


def _find(value: Any, path: list[str | int]) -> list[str | int] | None:
    """The path of the first string (or key) holding a control character, if any."""
    if isinstance(value, str):
        return path if _CONTROL.search(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and _CONTROL.search(key):
                return [*path, key]
            found = _find(item, [*path, key])
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _find(item, [*path, index])
            if found is not None:
                return found
    return None


def _refusal(location: str, path: list[str | int]) -> Problem:
    error = field_error([location, *path] if location == "query" else path, CONTROL_REASON)
    return Problem(422, f"Invalid fields: {error.field}.", errors=[error])


class ControlCharacterGuard:
    """Refuses a request whose query parameters or JSON body hold a control character."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _CONTROL.search(scope.get("path", "")):
            # The gateway refuses these; a request that came another way gets the same answer.
            problem = Problem(
                400, "The request path is not acceptable: it holds a control character."
            )
            await problem_response(None, problem)(scope, receive, send)
            return
        query = scope.get("query_string", b"")
        if b"%" in query:
            for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
                if _CONTROL.search(name) or _CONTROL.search(value):
                    await self._refuse(scope, receive, send, "query", [name])
                    return
        if not _is_json(scope):
            await self.app(scope, receive, send)
            return
        # Read the body once; the route gets it back unchanged from `replay`.
        messages: list[Message] = []
        body = bytearray()
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        if _MAYBE_CONTROL_IN_JSON.search(body):
            try:
                document = json.loads(body)
            except ValueError:
                document = None  # the framework answers malformed JSON itself
            found = _find(document, []) if document is not None else None
            if found is not None:
                await self._refuse(scope, receive, send, "body", found)
                return

        async def replay() -> Message:
            if messages:
                return messages.pop(0)
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, location: str, path: list[str | int]
    ) -> None:
        response = problem_response(None, _refusal(location, path), instance=scope.get("path"))
        await response(scope, receive, send)


def _is_json(scope: Scope) -> bool:
    if scope["method"] in ("GET", "HEAD", "DELETE", "OPTIONS"):
        return False
    for name, value in scope["headers"]:
        if name == b"content-type":
            media = value.split(b";", 1)[0].strip().lower()
            return media == b"application/json" or media.endswith(b"+json")
    return False
