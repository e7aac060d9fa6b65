"""Forwarding: headers, limits, failures of the service, and the merged API documents."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest

from devstack.postgres import free_port
from gateway import main as gateway_main
from gateway.main import create_app
from gateway.openapi import PLATFORM_SCHEMAS
from shared.principal import InternalTokenVerifier
from shared.settings import DEV_INTERNAL_TOKEN_PUBLIC_KEY
from tests.gateway.conftest import gateway_client, gateway_settings
from tests.harness import json_log, running


def bearer(issuer, who: str = "national.officer") -> dict[str, str]:
    return {"Authorization": f"Bearer {issuer.person_token(who)}"}


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return response.json()


# -- headers ---------------------------------------------------------------------------------


async def test_spoofed_identity_headers_never_reach_the_service(gateway, issuer):
    from tests.harness import NATIONAL, SIGNER

    forged_internal = SIGNER.sign(NATIONAL, audience="registry")
    async with gateway_client(gateway) as client:
        response = await client.get(
            "/registry/things",
            headers={
                **bearer(issuer, "cs.tuek-thla"),
                "X-Internal-Token": forged_internal,
                "X-Principal-Tier": "national",
                "X-User-Id": "admin",
                "X-Forwarded-For": "10.9.9.9",
                "Connection": "keep-alive, X-Secret-Hop",
                "X-Secret-Hop": "must not pass",
                "Keep-Alive": "timeout=5",
                "X-Custom": "passes",
            },
        )
    body = response.json()
    seen = body["headers"]
    assert body["principal"]["tier"] == "cs" and body["principal"]["admin_code"] == "120802"
    assert seen["x-internal-token"] != forged_internal
    verified = InternalTokenVerifier(DEV_INTERNAL_TOKEN_PUBLIC_KEY, audience="registry")
    assert verified.verify(seen["x-internal-token"]).admin_code == "120802"
    assert "x-principal-tier" not in seen and "x-user-id" not in seen
    assert "authorization" not in seen, "the caller's JWT stays at the gateway"
    assert "x-secret-hop" not in seen and "keep-alive" not in seen
    assert seen["x-custom"] == "passes"
    # No proxy is trusted here: the peer is the client, and its own header never passes.
    assert seen["x-forwarded-for"] == "203.0.113.7"
    assert seen["x-forwarded-proto"] == "http" and seen["x-forwarded-host"] == "gateway.test"


async def test_a_cookie_set_for_one_caller_never_reaches_the_service_for_another(gateway, issuer):
    async with gateway_client(gateway) as client:
        first = await client.get("/registry/things-with-cookie", headers=bearer(issuer))
        client.cookies.clear()
        second = await client.get("/registry/things", headers=bearer(issuer, "cs.tuek-thla"))
    assert "alice-secret" in first.headers["set-cookie"], "the caller gets its own cookie"
    assert "cookie" not in second.json()["headers"]


async def test_request_id_is_generated_or_kept_and_reaches_the_service(gateway, issuer):
    async with gateway_client(gateway) as client:
        kept = await client.get(
            "/registry/things", headers={**bearer(issuer), "X-Request-ID": "portal-77"}
        )
        generated = await client.get("/registry/things", headers=bearer(issuer))
    assert kept.headers["x-request-id"] == "portal-77"
    assert kept.json()["headers"]["x-request-id"] == "portal-77"
    rid = generated.headers["x-request-id"]
    assert len(rid) == 32 and generated.json()["headers"]["x-request-id"] == rid
    assert generated.json()["headers"]["traceparent"].startswith("00-")


async def test_a_failure_inside_the_gateway_is_a_500_problem_its_request_id_finds_in_the_log(
    gateway, issuer, monkeypatch
):
    """The last resort of a proxied request: the caller gets a problem document that says
    nothing of the cause, and its X-Request-ID is the one on the logged traceback."""

    def broken(*_args, **_kwargs):
        raise RuntimeError("limiter state corrupt at 10.0.3.7")

    monkeypatch.setattr(gateway.state.proxy.limiter, "take", broken)
    with json_log("shared.problems", "gateway") as logged:
        transport = httpx.ASGITransport(app=gateway, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as c:
            response = await c.get("/registry/things", headers=bearer(issuer))
    problem = assert_problem(response, 500)
    assert "10.0.3.7" not in response.text and "RuntimeError" not in response.text
    assert problem["instance"] == "/registry/things"
    request_id = response.headers["x-request-id"]
    assert f'"request_id": "{request_id}"' in logged.getvalue()
    assert "limiter state corrupt" in logged.getvalue()


async def test_a_failure_in_the_gateways_own_routes_is_a_500_with_its_request_id(
    gateway, monkeypatch
):
    def broken():
        raise RuntimeError("catalog file unreadable at /srv/secret")

    monkeypatch.setattr(gateway_main, "_asyncapi", broken)
    with json_log("shared.problems", "gateway") as logged:
        transport = httpx.ASGITransport(app=gateway, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as c:
            response = await c.get("/asyncapi.json")
    assert_problem(response, 500)
    assert "/srv/secret" not in response.text
    assert f'"request_id": "{response.headers["x-request-id"]}"' in logged.getvalue()


# -- limits ----------------------------------------------------------------------------------


async def test_a_body_over_the_limit_is_413(upstream_url, issuer):
    app = create_app(gateway_settings(upstream_url, max_body_bytes=1000))
    async with running(app), gateway_client(app) as client:
        declared = await client.post(
            "/registry/things", content=b"x" * 5000, headers=bearer(issuer, "cs.phnom-penh-thmei")
        )

        async def undeclared():
            for _ in range(10):
                yield b"y" * 500

        streamed = await client.post(
            "/registry/things", content=undeclared(), headers=bearer(issuer, "cs.phnom-penh-thmei")
        )
    assert "larger than 1000 bytes" in assert_problem(declared, 413)["detail"]
    assert_problem(streamed, 413)


async def test_public_routes_are_rate_limited_per_client_with_retry_after(gateway):
    async with gateway_client(gateway) as client:
        statuses = [
            (await client.post("/registry/public/feedback", json={})).status_code for _ in range(5)
        ]
        limited = await client.post("/registry/public/feedback", json={})
        client._transport.client = ("198.51.100.200", 1)
        other_citizen = await client.post("/registry/public/feedback", json={})
    assert statuses[:3] == [202, 202, 202] and statuses[3:] == [429, 429]
    assert_problem(limited, 429)
    assert int(limited.headers["retry-after"]) >= 1
    assert other_citizen.status_code == 202


# -- the service fails -----------------------------------------------------------------------


async def test_a_service_that_is_down_is_502_then_the_breaker_opens(upstream_url, issuer):
    closed = f"http://127.0.0.1:{free_port()}"
    app = create_app(gateway_settings(closed, breaker_failure_threshold=2))
    async with running(app), gateway_client(app) as client:
        first = await client.get("/registry/things", headers=bearer(issuer))
        second = await client.get("/registry/things", headers=bearer(issuer))
        third = await client.get("/registry/things", headers=bearer(issuer))
    body = assert_problem(first, 502)
    assert "127.0.0.1" not in body["detail"] and "onnect" not in body["detail"]
    assert_problem(second, 502)
    assert_problem(third, 503)
    assert third.headers["retry-after"] == "1"


async def test_a_slow_service_is_504(gateway, issuer):
    async with gateway_client(gateway) as client:
        slow = await client.get("/registry/slow", params={"seconds": 2}, headers=bearer(issuer))
        quick = await client.get("/registry/slow", params={"seconds": 0}, headers=bearer(issuer))
    assert_problem(slow, 504)
    assert quick.status_code == 200


async def test_a_flapping_service_opens_the_breaker_which_recovers(upstream_url, issuer):
    app = create_app(
        gateway_settings(upstream_url, breaker_failure_threshold=2, breaker_reset_seconds=0.5)
    )
    async with running(app), gateway_client(app) as client:
        failures = [await client.get("/registry/fail", headers=bearer(issuer)) for _ in range(2)]
        while_open = await client.get("/registry/things", headers=bearer(issuer))
        await asyncio.sleep(0.6)
        probe = await client.get("/registry/things", headers=bearer(issuer))
        after = await client.get("/registry/things", headers=bearer(issuer))
    assert [f.status_code for f in failures] == [502, 502]
    assert_problem(while_open, 503)
    assert probe.status_code == 200 and after.status_code == 200
    assert app.state.upstreams["registry"].breaker.state == "closed"


# -- documents and health --------------------------------------------------------------------


async def test_the_merged_openapi_publishes_routed_operations_under_their_prefix(gateway):
    async with gateway_client(gateway) as client:
        document = (await client.get("/openapi.json")).json()
        docs = await client.get("/docs")
    paths = document["paths"]
    assert "/registry/things" in paths and "/registry/things/{thing_id}" in paths
    assert set(paths["/registry/things"]) == {"get", "post"}
    assert paths["/registry/public/feedback"]["post"]["security"] == []
    assert paths["/registry/things"]["get"]["security"][0] == {"bearer": []}
    operation_ids = [op["operationId"] for item in paths.values() for op in item.values()]
    assert len(operation_ids) == len(set(operation_ids))
    assert all(op.startswith("registry_") for op in operation_ids)
    assert "bearer" in document["components"]["securitySchemes"]
    schemas = document["components"]["schemas"]
    assert all(name.startswith("Registry") for name in schemas if name not in PLATFORM_SCHEMAS)
    assert all(schema["title"] == name for name, schema in schemas.items())
    assert "/registry/health" not in paths, "only routes in the policy are published"
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


async def test_asyncapi_and_health_are_served(gateway):
    async with gateway_client(gateway) as client:
        asyncapi = (await client.get("/asyncapi.json")).json()
        health = (await client.get("/health")).json()
    assert asyncapi["asyncapi"] == "3.0.0"
    assert health["status"] == "degraded"
    assert health["services"]["registry"]["status"] == "ready"
    assert health["services"]["budget"]["status"] == "unreachable"


@pytest.mark.parametrize("origin", ["https://portal.sp.gov.kh"])
async def test_cors_for_configured_portal_origins(upstream_url, origin):
    app = create_app(gateway_settings(upstream_url, cors_origins=[origin]))
    async with running(app), gateway_client(app) as client:
        allowed = await client.options(
            "/registry/things", headers={"Origin": origin, "Access-Control-Request-Method": "GET"}
        )
        other = await client.options(
            "/registry/things",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
        )
    assert allowed.headers["access-control-allow-origin"] == origin
    assert "access-control-allow-origin" not in other.headers


async def test_make_run_lets_a_local_portal_call_the_stack(upstream_url):
    """The stack `make run` starts allows the usual dev-server origins: a portal page on
    localhost:3000 gets through its preflight, and its answer carries the exposed headers."""
    from devstack.run import LOCAL_PORTAL_ORIGINS

    assert "http://localhost:3000" in LOCAL_PORTAL_ORIGINS
    app = create_app(gateway_settings(upstream_url, cors_origins=LOCAL_PORTAL_ORIGINS))
    origin = "http://localhost:3000"
    async with running(app), gateway_client(app) as client:
        preflight = await client.options(
            "/registry/things",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, if-match, idempotency-key",
            },
        )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == origin


def test_production_settings_allow_no_origin():
    from gateway.config import Settings

    assert Settings.model_fields["cors_origins"].default == []


async def test_docs_and_redoc_load_nothing_from_outside(gateway):
    """Swagger UI and ReDoc come from the gateway itself: an offline network still has docs."""
    async with gateway_client(gateway) as client:
        pages = [await client.get("/docs"), await client.get("/redoc")]
        for page in pages:
            assert page.status_code == 200
            sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
            assert sources and all(s.startswith("/") for s in sources), sources
            for source in sources:
                asset = await client.get(source)
                assert asset.status_code == 200, source
    assert "swagger-ui-bundle.js" in pages[0].text and "redoc.standalone.js" in pages[1].text
