"""Token-bucket rate limits per principal (or client IP on public routes) and rate class.

Buckets live in this gateway process: with several replicas each enforces its own share,
which is the usual trade for not putting a network round trip on every request.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from gateway.policy import RateClass


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(self, *, max_keys: int = 100_000) -> None:
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._max_keys = max_keys

    def take(self, key: str, rate: RateClass, now: float | None = None) -> float:
        """0 when allowed, else the seconds until a token is available (for Retry-After)."""
        now = time.monotonic() if now is None else now
        bucket = self._buckets.get((key, rate.name))
        if bucket is None:
            if len(self._buckets) >= self._max_keys:
                self._evict_full(now)
            bucket = self._buckets[(key, rate.name)] = _Bucket(float(rate.burst), now)
        else:
            bucket.tokens = min(
                rate.burst, bucket.tokens + (now - bucket.updated) * rate.per_second
            )
            bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / rate.per_second

    def _evict_full(self, now: float) -> None:
        # A bucket that has refilled completely carries no state worth keeping.
        self._buckets = {k: b for k, b in self._buckets.items() if now - b.updated < 60}


def retry_after_header(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))
