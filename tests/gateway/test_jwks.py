"""The JWKS cache against a real HTTP identity provider that rotates its keys."""

from __future__ import annotations

import asyncio
import time

import httpx
import jwt
import pytest
import uvicorn
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from devstack.postgres import free_port
from gateway.identity.jwks import JwksCache
from gateway.identity.tokens import TokenVerifier
from shared.problems import Problem


class RotatingProvider:
    def __init__(self) -> None:
        self.keys: dict[str, rsa.RSAPrivateKey] = {}
        self.requests = 0
        self.app = Starlette(routes=[Route("/certs", self.certs)])

    def rotate(self, kid: str) -> None:
        self.keys = {kid: rsa.generate_private_key(65537, 2048)}

    async def certs(self, _request) -> JSONResponse:
        self.requests += 1
        return JSONResponse(
            {
                "keys": [
                    {
                        **RSAAlgorithm.to_jwk(k.public_key(), as_dict=True),
                        "kid": kid,
                        "alg": "RS256",
                        "use": "sig",
                    }
                    for kid, k in self.keys.items()
                ]
            }
        )

    def token(self, kid: str) -> str:
        now = int(time.time())
        return jwt.encode(
            {
                "iss": "https://idp.test/realms/sp",
                "aud": "sp-platform",
                "sub": "u1",
                "iat": now,
                "exp": now + 60,
                "tier": "national",
                "admin_code": "",
                "roles": ["viewer"],
            },
            self.keys[kid],
            algorithm="RS256",
            headers={"kid": kid},
        )


@pytest.fixture
async def provider():
    provider = RotatingProvider()
    provider.rotate("key-1")
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(provider.app, host="127.0.0.1", port=port, log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    provider.url = f"http://127.0.0.1:{port}/certs"
    yield provider
    server.should_exit = True
    await task


async def test_keys_are_fetched_cached_and_refreshed_on_an_unknown_kid(provider):
    async with httpx.AsyncClient() as client:
        cache = JwksCache(provider.url, client=client, min_refresh_interval=0.0)
        verifier = TokenVerifier(
            issuer="https://idp.test/realms/sp", audience="sp-platform", jwks=cache
        )
        first = provider.token("key-1")
        assert (await verifier.verify(first)).sub == "u1"
        assert (await verifier.verify(provider.token("key-1"))).sub == "u1"
        assert provider.requests == 1, "the second token needed no fetch"

        provider.rotate("key-2")
        assert (await verifier.verify(provider.token("key-2"))).sub == "u1"
        assert provider.requests == 2, "an unknown kid fetched the keys once more"


async def test_forged_kids_do_not_hammer_the_provider(provider):
    async with httpx.AsyncClient() as client:
        cache = JwksCache(provider.url, client=client, min_refresh_interval=60.0)
        verifier = TokenVerifier(
            issuer="https://idp.test/realms/sp", audience="sp-platform", jwks=cache
        )
        await verifier.verify(provider.token("key-1"))
        provider.keys["forged"] = rsa.generate_private_key(65537, 2048)
        forged = provider.token("forged")
        provider.keys.pop("forged")
        for _ in range(20):
            with pytest.raises(Problem):
                await verifier.verify(forged)
        assert provider.requests == 1
