"""The whole platform for tests that go through the gateway, as a user would.

The four services run as real processes (uvicorn) on the test databases and broker, with
their relays and consumers; the gateway runs in the test process with the real policy table
(`gateway/policy.yml`) and the development issuer. Tests call it with demo people's tokens:

    async with platform.client("cs.phnom-penh-thmei") as client:
        response = await client.post("/registry/households", json=...)

In-process service apps in other tests run with `consumers_enabled=False`, so the consumers
here are the only members of their groups and receive every event.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
from fastapi import FastAPI

from gateway.identity.dev_issuer import DevIssuer

ISSUER_URL = "http://gateway.test/dev/idp"


@dataclass
class Platform:
    gateway: FastAPI
    service_urls: dict[str, str]
    issuer: DevIssuer = field(default_factory=lambda: DevIssuer(ISSUER_URL, "sp-platform"))

    def token(self, caller: str) -> str | None:
        """A demo person's token (`cs.tuek-thla`), a client's (`client:moh-health-equity`),
        or None for `anonymous`."""
        if caller == "anonymous":
            return None
        if caller.startswith("client:"):
            return self.issuer.client_token(caller.removeprefix("client:"))
        return self.issuer.person_token(caller)

    @contextlib.asynccontextmanager
    async def client(
        self, caller: str = "anonymous", *, client_ip: str = "203.0.113.7"
    ) -> AsyncIterator[httpx.AsyncClient]:
        token = self.token(caller)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.gateway, client=(client_ip, 5000)),
            base_url="http://gateway.test",
            headers=headers,
            timeout=30,
        ) as client:
            yield client
