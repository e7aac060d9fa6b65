"""Forwarding `/<service>/<path>` to the service: authenticate, authorise, limit, stream.

A plain ASGI app (no framework routing or dependency injection on the hot path). Order of
checks: route known (404/405) -> identity (401) -> policy (403) -> rate (429) -> body size
(413) -> breaker (503) -> forward, mapping upstream failures to 502/504. Every refusal is a
problem document, and nothing about the service's internals leaks into it: a service's own
problem document leaves with `instance` set to the path the client called, and `Location`
headers point through the gateway.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import AsyncIterator
from urllib.parse import quote_from_bytes

from starlette.types import Receive, Scope, Send

from gateway import http1
from gateway.addresses import TrustedProxies
from gateway.identity.tokens import TokenVerifier
from gateway.paths import read_path
from gateway.policy import Policy, Rule
from gateway.ratelimit import RateLimiter, retry_after_header
from gateway.upstreams import Upstream
from shared.context import request_id_var, traceparent_var
from shared.http import dci
from shared.principal import (
    INTERNAL_TOKEN_HEADER,
    INTERNAL_TOKEN_TTL_SECONDS,
    InternalTokenSigner,
    Principal,
)
from shared.problems import PROBLEM_MEDIA_TYPE, Problem, problem_response

log = logging.getLogger(__name__)

# RFC 9110 section 7.6.1, plus headers that only the gateway may set.
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"proxy-connection",
    }
)
IDENTITY_HEADERS = frozenset(
    {
        b"authorization",
        INTERNAL_TOKEN_HEADER.encode(),
        b"x-request-id",
        b"traceparent",
        b"forwarded",
        b"x-forwarded-for",
        b"x-forwarded-proto",
        b"x-forwarded-host",
        b"x-real-ip",
        b"host",
        b"cookie",
    }
)
IDENTITY_PREFIXES = (b"x-principal-", b"x-user-", b"x-sp-", b"x-auth-")
# The client's own framing and expectations: the gateway frames what it sends itself.
_REFRAMED = frozenset({b"content-length", b"expect"})
_NOT_FORWARDED = HOP_BY_HOP | IDENTITY_HEADERS | _REFRAMED
# The gateway sets its own request id and trace context; server and date come from uvicorn.
_OWN_RESPONSE_HEADERS = frozenset({b"x-request-id", b"traceparent", b"server", b"date"})
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
SMALL_BODY = 64 * 1024
# A problem document is small; a larger one is relayed as it came.
MAX_PROBLEM_BYTES = 256 * 1024
ANONYMOUS = Principal.anonymous()
_PROBLEM_MEDIA_TYPE = PROBLEM_MEDIA_TYPE.encode()
# A request target the service can be sent as it is: visible ASCII only (uvicorn's parser has
# refused spaces and control characters; read_path has escaped the path). Anything else (bytes
# beyond ASCII in a query) is percent-encoded first, as httpx did before.
_PLAIN_TARGET = re.compile(rb"[!-~]*")
# What may stay unescaped when a target is percent-encoded: every visible ASCII character.
_TARGET_SAFE = bytes(range(0x21, 0x7F))
_INTERNAL_TOKEN = INTERNAL_TOKEN_HEADER.encode()


class BodyTooLarge(Exception):
    pass


class ProxyApp:
    def __init__(
        self,
        *,
        policy: Policy,
        upstreams: dict[str, Upstream],
        verifier: TokenVerifier,
        signer: InternalTokenSigner,
        limiter: RateLimiter,
        max_body_bytes: int,
        default_timeout: float,
        trusted_proxies: TrustedProxies | None = None,
    ) -> None:
        self.policy = policy
        self.upstreams = upstreams
        self.verifier = verifier
        self.signer = signer
        self.limiter = limiter
        self.max_body_bytes = max_body_bytes
        self.default_timeout = default_timeout
        self.trusted_proxies = trusted_proxies or TrustedProxies([])
        self._tokens: dict[tuple[Principal, str], tuple[str, float]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        try:
            await self._handle(scope, receive, send)
        except Problem as problem:
            if scope.get("sp.errors") == "dci":
                await dci.error_response(problem)(scope, receive, send)
                return
            # The instance is the path as the client sent it (escaped), never a decoded form.
            instance = (scope.get("raw_path") or b"").decode("latin-1") or None
            await problem_response(None, problem, instance=instance)(scope, receive, send)

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        # One reading of the path: the policy judges `decoded`, the service gets `forwarded`,
        # which decodes to exactly the same segments (gateway/paths.py).
        path = read_path(scope.get("raw_path"), scope["path"])
        _, _, rest = path.decoded.partition("/")
        service, slash, service_path = rest.partition("/")
        upstream = self.upstreams.get(service)
        service_path = slash + service_path
        if upstream is None or not service_path:
            raise Problem(404, "No API is published at this path.")
        forwarded_path = path.forwarded[len(service) + 1 :]
        method: str = scope["method"]
        match = self.policy.match(service, method, service_path)
        scope["sp.errors"] = match.errors
        if match.rule is None:
            if not match.method_allowed:
                raise Problem(
                    405,
                    f"{method} is not allowed on this route.",
                    headers={"Allow": ", ".join(match.allowed_methods)},
                )
            raise Problem(404, "No API is published at this path.")
        rule = match.rule
        scope["sp.route"] = f"/{service}{rule.path}"  # the metrics label: bounded, not the URL
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        principal = await self._principal(headers, rule)
        if not rule.allows(principal):
            raise Problem.forbidden("Your tier, roles or scopes do not allow this request.")
        client = self.trusted_proxies.client_address(scope)
        scope["sp.client"] = client
        key = principal.sub if not principal.is_anonymous else f"ip:{client}"
        wait = self.limiter.take(key, rule.rate)
        if wait:
            raise Problem(
                429,
                "Too many requests; slow down and retry later.",
                headers={"Retry-After": retry_after_header(wait)},
            )
        await self._forward(scope, receive, send, upstream, rule, principal, forwarded_path)

    async def _principal(self, headers: list[tuple[bytes, bytes]], rule: Rule) -> Principal:
        authorization = None
        for name, value in headers:
            if name == b"authorization":
                authorization = value.decode("latin-1")
                break
        if authorization is None:
            if rule.public:
                return ANONYMOUS
            raise Problem.unauthorized("This route needs a bearer token.")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Problem.unauthorized("Use the Bearer scheme: `Authorization: Bearer <token>`.")
        return await self.verifier.verify(token.strip())

    def _internal_token(self, principal: Principal, audience: str) -> str:
        now = time.monotonic()
        cached = self._tokens.get((principal, audience))
        # Reuse a signed token for half its life: signing is the costliest step per request.
        if cached is not None and cached[1] > now:
            return cached[0]
        token = self.signer.sign(principal, audience=audience)
        if len(self._tokens) > 50_000:
            self._tokens.clear()
        self._tokens[(principal, audience)] = (token, now + INTERNAL_TOKEN_TTL_SECONDS / 2)
        return token

    def _upstream_headers(
        self, scope: Scope, principal: Principal, upstream: Upstream
    ) -> list[tuple[bytes, bytes]]:
        named_in_connection: set[bytes] = set()
        host = None
        out = []
        # One pass: what a client may not send on (hop-by-hop, identity, the gateway's own) is
        # dropped, noting Connection's list and Host on the way.
        for name, value in scope["headers"]:
            if name in _NOT_FORWARDED:
                if name == b"connection":
                    named_in_connection.update(v.strip().lower() for v in value.split(b","))
                elif name == b"host":
                    host = value
            elif not name.startswith(IDENTITY_PREFIXES):
                out.append((name, value))
        if named_in_connection:
            out = [(name, value) for name, value in out if name not in named_in_connection]
        # One address the gateway vouches for: the client as seen through the trusted proxies
        # (gateway/addresses.py); a chain the client wrote itself never reaches a service.
        client = scope.get("sp.client") or self.trusted_proxies.client_address(scope)
        out.append((b"x-forwarded-for", client.encode()))
        out.append((b"x-forwarded-proto", scope.get("scheme", "http").encode()))
        if host:
            out.append((b"x-forwarded-host", host))
        out.append((b"x-request-id", (request_id_var.get() or "").encode()))
        out.append((b"traceparent", (traceparent_var.get() or "").encode()))
        out.append((_INTERNAL_TOKEN, self._internal_token(principal, upstream.name).encode()))
        return out

    async def _forward(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        upstream: Upstream,
        rule: Rule,
        principal: Principal,
        service_path: str,
    ) -> None:
        limit = rule.max_body or self.max_body_bytes
        declared = _content_length(scope["headers"])
        if declared is not None and declared > limit:
            raise Problem(413, f"The request body is larger than {limit} bytes.")
        if declared is not None and declared <= SMALL_BODY:
            content: bytes | _BodyStream | None = await _read_body(receive, limit)
        elif declared is None and scope["method"] in ("GET", "HEAD", "DELETE", "OPTIONS"):
            content = None
        else:
            content = _BodyStream(receive, limit)
        if not upstream.breaker.allow():
            raise Problem(
                503,
                "The service is unavailable; try again shortly.",
                headers={"Retry-After": str(int(upstream.breaker.reset_after))},
            )
        target = path_bytes = upstream.prefix + service_path.encode("utf-8", "surrogateescape")
        query: bytes = scope.get("query_string", b"")
        if query:
            target = path_bytes + b"?" + query
        if not _PLAIN_TARGET.fullmatch(target):
            target = quote_from_bytes(target, safe=_TARGET_SAFE).encode("ascii")
        timeout = rule.timeout or self.default_timeout
        can_retry = scope["method"] in IDEMPOTENT and not isinstance(content, _BodyStream)
        response = await self._send(
            upstream,
            scope["method"],
            target,
            self._upstream_headers(scope, principal, upstream),
            content,
            timeout,
            limit,
            declared,
            retries=int(can_retry),
        )
        content_type = response.header(b"content-type") or b""
        if response.status >= 500:
            upstream.breaker.record_failure()
            if not content_type.startswith(_PROBLEM_MEDIA_TYPE):
                # Not one of our problem documents: it may carry internals, so it stays here.
                response.release()
                raise Problem(502, "The service failed to answer this request.")
        else:
            upstream.breaker.record_success()
        if content_type.startswith(_PROBLEM_MEDIA_TYPE):
            await self._relay_problem(scope, send, response, upstream)
        else:
            await self._relay_response(send, response, upstream)

    async def _send(
        self,
        upstream: Upstream,
        method: str,
        target: bytes,
        headers: list[tuple[bytes, bytes]],
        content: bytes | _BodyStream | None,
        seconds: float,
        limit: int,
        declared: int | None,
        retries: int,
    ) -> http1.Response:
        """The service's response, its body not read yet, from the upstream's keep-alive pool
        (gateway/http1.py: the request line and header lines written as they are)."""
        for attempt in range(retries + 1):
            try:
                return await upstream.pool.request(
                    method,
                    target,
                    headers,
                    content,
                    seconds=seconds,
                    content_length=declared,
                )
            except Exception as exc:
                if isinstance(content, _BodyStream) and content.exceeded:
                    raise Problem(413, f"The request body is larger than {limit} bytes.") from exc
                if not isinstance(exc, http1.UpstreamError):
                    raise
                # Retried only when the request cannot have been processed: no connection,
                # or a kept-alive one the service had closed before reading it.
                unsent = isinstance(exc, http1.ConnectFailed | http1.Stale)
                if unsent and attempt < retries:
                    if isinstance(exc, http1.ConnectFailed):
                        await asyncio.sleep(0.05)
                    continue
                upstream.breaker.record_failure()
                log.warning("%s failed: %s: %s", upstream.name, type(exc).__name__, exc)
                if isinstance(exc, http1.ConnectFailed):
                    raise Problem(502, "The service could not be reached.") from exc
                if isinstance(exc, http1.UpstreamTimeout):
                    raise Problem(504, "The service did not answer in time.") from exc
                raise Problem(502, "The service's answer could not be read.") from exc
        raise AssertionError("unreachable")

    async def _relay_problem(
        self, scope: Scope, send: Send, response: http1.Response, upstream: Upstream
    ) -> None:
        """A service's problem document, its `instance` made the path the client called: the
        service knows only its own (`/households/<id>`), which 404s at the gateway."""
        try:
            body = await response.read()
        except http1.UpstreamError as exc:
            log.warning("%s broke off its problem document: %s", upstream.name, exc)
            upstream.breaker.record_failure()
            raise Problem(502, "The service's answer could not be read.") from exc
        finally:
            response.release()
        try:
            document = json.loads(body) if len(body) <= MAX_PROBLEM_BYTES else None
        except ValueError:
            document = None
        if isinstance(document, dict) and "instance" in document:
            document["instance"] = (scope.get("raw_path") or b"").decode("latin-1") or None
            body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
        headers = [
            (k.lower(), public_location(v, upstream) if k.lower() == b"location" else v)
            for k, v in _relayed_headers(response)
            if k.lower() != b"content-length"
        ]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})

    async def _relay_response(
        self, send: Send, response: http1.Response, upstream: Upstream
    ) -> None:
        headers = [
            (k.lower(), public_location(v, upstream) if k.lower() == b"location" else v)
            for k, v in _relayed_headers(response)
        ]
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        whole = response.received_whole()
        if whole is not None:
            # Already here to its end: one body message (and, with the platform's server
            # protocol, one socket write with the head).
            response.release()
            await send({"type": "http.response.body", "body": whole, "more_body": False})
            return
        try:
            async for chunk in response.chunks():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except http1.UpstreamError as exc:
            # The status is already sent; all we can do is cut the body short and say so.
            log.warning("%s broke off its response: %s", upstream.name, exc)
            upstream.breaker.record_failure()
        finally:
            response.release()
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def _relayed_headers(response: http1.Response) -> list[tuple[bytes, bytes]]:
    """The service's response headers a client may see: no hop-by-hop ones, none the gateway
    sets itself."""
    raw = response.headers
    named = {
        v.strip().lower()
        for k, value in raw
        if k.lower() == b"connection"
        for v in value.split(b",")
    }
    return [
        (k, v)
        for k, v in raw
        if k.lower() not in HOP_BY_HOP
        and k.lower() not in named
        and k.lower() not in _OWN_RESPONSE_HEADERS
    ]


def public_location(value: bytes, upstream: Upstream) -> bytes:
    """A `Location` the service gave, as the client must follow it: through the gateway.
    The service knows only its own paths (`/households/<id>`) and its own address; both become
    `/<service>/households/<id>`, so no internal address ever leaves the gateway."""
    text = value.decode("latin-1")
    base = upstream.base_url
    if text == base or text.startswith(base + "/") or text.startswith(base + "?"):
        text = text[len(base) :]
        if not text.startswith("/"):
            text = "/" + text
    elif "://" in text.split("?", 1)[0] or text.startswith("//"):
        # Some other absolute address: not a place our API sends a client to.
        return f"/{upstream.name}/".encode("latin-1")
    elif not text.startswith("/"):
        return value  # relative to the request's own path, which is already public
    return f"/{upstream.name}{text}".encode("latin-1")


def _content_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    for name, value in headers:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError as exc:
                raise Problem(400, "Content-Length is not a number.") from exc
    return None


async def _read_body(receive: Receive, limit: int) -> bytes:
    chunks = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise Problem(400, "The client went away.")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise Problem(413, f"The request body is larger than {limit} bytes.")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


class _BodyStream:
    """The client's body streamed to the service, stopped at the size limit. The transport
    wraps our exception in its own, so the overflow is also recorded on the stream."""

    def __init__(self, receive: Receive, limit: int) -> None:
        self.receive = receive
        self.limit = limit
        self.exceeded = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        size = 0
        while True:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                self.exceeded = True
                raise BodyTooLarge
            if chunk:
                yield chunk
            if not message.get("more_body", False):
                return
