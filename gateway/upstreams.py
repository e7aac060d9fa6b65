"""The services behind the gateway: pooled keep-alive connections and a circuit breaker each.

Forwarded requests go through the gateway's own HTTP/1.1 client (`Upstream.pool`,
gateway/http1.py): the request line and header lines written as the proxy built them, the
answer's header lines and body handed on as they came, with nothing built per request that a
reverse proxy does not need (bench/gateway_proxy.py measures it). The gateway's own calls
(readiness, OpenAPI documents) use httpx over an aiohttp session (`httpx-aiohttp`): no cookie
jar, no redirects, no decompression.
"""

from __future__ import annotations

import ssl
import time
from enum import StrEnum

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport
from yarl import URL

from gateway.http1 import Pool


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


class CircuitBreaker:
    """Opens after `threshold` consecutive failures; after `reset_after` seconds lets one
    probe through (half-open): its success closes the breaker, its failure opens it again."""

    def __init__(self, *, threshold: int = 5, reset_after: float = 10.0) -> None:
        self.threshold = threshold
        self.reset_after = reset_after
        self.state = BreakerState.CLOSED
        self.failures = 0
        self._opened_at = 0.0
        self._probing = False

    def allow(self) -> bool:
        if self.state is BreakerState.CLOSED:
            return True
        if self.state is BreakerState.OPEN:
            if time.monotonic() - self._opened_at < self.reset_after:
                return False
            self.state = BreakerState.HALF_OPEN
            self._probing = False
        if self._probing:
            return False
        self._probing = True
        return True

    def record_success(self) -> None:
        if self.state is not BreakerState.CLOSED or self.failures:
            self.state = BreakerState.CLOSED
            self.failures = 0
            self._probing = False

    def record_failure(self) -> None:
        self.failures += 1
        self._probing = False
        if self.state is BreakerState.HALF_OPEN or self.failures >= self.threshold:
            self.state = BreakerState.OPEN
            self._opened_at = time.monotonic()


class Upstream:
    def __init__(
        self,
        name: str,
        base_url: str,
        *,
        max_connections: int = 200,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        # The Host header the service gets, as httpx derived it from the URL.
        self.host = httpx.URL(self.base_url).netloc.decode("ascii")
        base = URL(self.base_url)
        if base.scheme not in ("http", "https") or not base.host:
            raise ValueError(f"a service URL is http:// or https:// and a host: {base_url}")
        if base.raw_query_string or base.raw_fragment or base.raw_user:
            raise ValueError(f"a service URL has no query, fragment or user: {base_url}")
        # A service behind a path (`http://host/registry`): its paths follow that prefix.
        self.prefix = base.raw_path.rstrip("/").encode("ascii")
        self.pool = Pool(
            base.raw_host or base.host,
            base.port or (443 if base.scheme == "https" else 80),
            host_header=self.host,
            ssl=ssl.create_default_context() if base.scheme == "https" else None,
            limit=max_connections,
        )
        self.breaker = breaker or CircuitBreaker()
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None
        self._transport: AiohttpTransport | None = None
        self._client: httpx.AsyncClient | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        # Created on first use, inside the running event loop that aiohttp binds to.
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._max_connections, keepalive_timeout=30),
                # A shared proxy must never keep one caller's cookies for the next caller.
                cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=False,
                skip_auto_headers=("User-Agent", "Accept-Encoding", "Accept"),
            )
        return self._session

    @property
    def transport(self) -> AiohttpTransport:
        """httpx over the same session, for the gateway's own calls."""
        if self._transport is None:
            self._transport = AiohttpTransport(client=self.session)
        return self._transport

    @property
    def client(self) -> httpx.AsyncClient:
        """For the gateway's own calls (readiness, OpenAPI), not for forwarding."""
        if self._client is None:
            self._client = httpx.AsyncClient(transport=self.transport, timeout=5.0)
        return self._client

    async def aclose(self) -> None:
        await self.pool.aclose()
        if self._session is not None:
            await self._session.close()
