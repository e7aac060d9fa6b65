"""The services behind the gateway: pooled keep-alive clients and a circuit breaker each.

The HTTP client is httpx over an aiohttp transport (`httpx-aiohttp`): the same httpx API, but
aiohttp's connection pool, which costs far less CPU under concurrency than httpx's own
(measured in bench/gateway_proxy.py).
"""

from __future__ import annotations

import time
from enum import StrEnum

import httpx
from httpx_aiohttp import AiohttpTransport


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
        self.breaker = breaker or CircuitBreaker()
        limits = httpx.Limits(
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            keepalive_expiry=30,
        )
        self.client = httpx.AsyncClient(
            transport=AiohttpTransport(limits=limits, trust_env=False), timeout=httpx.Timeout(10.0)
        )

    async def aclose(self) -> None:
        await self.client.aclose()
