"""The identity provider's signing keys, cached and refreshed on an unknown `kid`.

The hot path is a dict lookup. A token signed with a key we do not know triggers one refetch
(at most one every `min_refresh_interval` seconds, so a flood of forged `kid`s cannot turn
the gateway into a JWKS hammer); keys also expire after `max_age` so rotations are picked up.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import httpx
import jwt
from jwt import PyJWK

log = logging.getLogger(__name__)

ALLOWED_KEY_TYPES = {"RSA", "EC", "OKP"}


class JwksError(Exception):
    pass


class JwksCache:
    def __init__(
        self,
        url: str | None,
        *,
        client: httpx.AsyncClient | None = None,
        static_keys: list[dict[str, Any]] | None = None,
        min_refresh_interval: float = 30.0,
        max_age: float = 3600.0,
    ) -> None:
        self.url = url
        self._client = client
        self._keys: dict[str | None, PyJWK] = {}
        self._static = static_keys or []
        self._fetched_at = 0.0
        self._last_attempt = float("-inf")
        self._lock = asyncio.Lock()
        self.min_refresh_interval = min_refresh_interval
        self.max_age = max_age
        if self._static:
            self._install(self._static)

    def _install(self, keys: list[dict[str, Any]]) -> None:
        installed: dict[str | None, PyJWK] = {}
        for jwk in [*keys, *self._static]:
            if jwk.get("use", "sig") != "sig" or jwk.get("kty") not in ALLOWED_KEY_TYPES:
                continue
            try:
                installed[jwk.get("kid")] = PyJWK.from_dict(jwk)
            except jwt.PyJWTError as exc:
                log.warning("ignoring a JWKS key the gateway cannot use: %s", exc)
        self._keys = installed
        self._fetched_at = time.monotonic()

    async def refresh(self) -> None:
        if self.url is None or self._client is None:
            return
        self._last_attempt = time.monotonic()
        response = await self._client.get(self.url, timeout=5.0)
        response.raise_for_status()
        keys = response.json().get("keys")
        if not isinstance(keys, list):
            raise JwksError("the JWKS document has no keys")
        self._install(keys)
        log.info("loaded %d signing keys from %s", len(self._keys), self.url)

    async def get(self, kid: str | None) -> PyJWK:
        key = self._keys.get(kid)
        stale = time.monotonic() - self._fetched_at > self.max_age
        if key is not None and not stale:
            return key
        async with self._lock:
            key = self._keys.get(kid)
            due = time.monotonic() - self._last_attempt >= self.min_refresh_interval
            if (key is None or stale) and due:
                try:
                    await self.refresh()
                except (httpx.HTTPError, ValueError, JwksError) as exc:
                    log.warning("JWKS refresh from %s failed: %s", self.url, exc)
                key = self._keys.get(kid)
        if key is None:
            raise JwksError(f"no signing key with kid {kid!r}")
        return key
