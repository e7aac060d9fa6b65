"""Who may call what, through the gateway, against a running service.

Rows: the tiers of Khan Sen Sok and their neighbours, machine clients with and without the
scope, anonymous. Columns: representative routes of the policy table. No domain service
publishes routes yet, so the routes are those of the stand-in service (tests/gateway/
upstream.py) under the test policy; each service's issue adds its own routes here.
"""

from __future__ import annotations

import pytest

from tests.gateway.conftest import gateway_client

CALLERS = [
    "national.officer",
    "cp.phnom-penh",
    "dmk.sen-sok",
    "cs.phnom-penh-thmei",
    "cs.tuek-thla",
    "cp.banteay-meanchey",
    "client:moh-with-scope",
    "client:without-scope",
    "anonymous",
]

# route -> expected status per caller, in the order of CALLERS
MATRIX = {
    ("GET", "/registry/things"): [200, 200, 200, 200, 200, 200, 200, 403, 401],
    ("POST", "/registry/things"): [403, 403, 403, 201, 201, 403, 403, 403, 401],
    ("GET", "/registry/things/h-1"): [403, 403, 200, 200, 200, 403, 403, 403, 401],
    ("POST", "/registry/public/feedback"): [202] * 9,
    ("GET", "/registry/fail"): [502, 403, 403, 403, 403, 403, 403, 403, 401],
    ("DELETE", "/registry/things"): [405] * 9,
    ("GET", "/registry/not-in-policy"): [404] * 9,
    ("GET", "/budget/anything"): [404] * 9,
}


def token_for(issuer, caller: str) -> str | None:
    if caller == "anonymous":
        return None
    if caller == "client:moh-with-scope":
        # The test policy grants GET /things to scope things.read.
        import time

        import jwt

        from gateway.identity.dev_issuer import KID

        now = int(time.time())
        return jwt.encode(
            {
                "iss": issuer.issuer,
                "aud": issuer.audience,
                "iat": now,
                "exp": now + 300,
                "sub": "service-account-moh",
                "client_id": "moh-health-equity",
                "scope": "things.read",
            },
            issuer._key,
            algorithm="ES256",
            headers={"kid": KID},
        )
    if caller == "client:without-scope":
        return issuer.client_token("partner-without-scope")
    return issuer.person_token(caller)


@pytest.mark.parametrize(("method", "path"), list(MATRIX))
async def test_access_matrix(gateway, issuer, method, path):
    results = {}
    async with gateway_client(gateway) as client:
        for caller in CALLERS:
            token = token_for(issuer, caller)
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            # Public routes are rate limited per client IP: give each caller its own address.
            client._transport.client = (f"198.51.100.{CALLERS.index(caller) + 1}", 5000)
            response = await client.request(
                method, path, headers=headers, json={"x": 1} if method == "POST" else None
            )
            results[caller] = response.status_code
            if response.status_code >= 400:
                assert response.headers["content-type"] == "application/problem+json"
                assert "hunter2" not in response.text, "upstream internals leaked"
    assert results == dict(zip(CALLERS, MATRIX[(method, path)], strict=True))


async def test_the_service_sees_who_called_through_the_gateway(gateway, issuer):
    async with gateway_client(gateway) as client:
        cs = await client.get(
            "/registry/things",
            headers={"Authorization": f"Bearer {issuer.person_token('cs.tuek-thla')}"},
        )
        anonymous = await client.post("/registry/public/feedback", json={})
        machine = await client.get(
            "/registry/things",
            headers={"Authorization": f"Bearer {token_for(issuer, 'client:moh-with-scope')}"},
        )
    principal = cs.json()["principal"]
    assert (principal["tier"], principal["admin_code"]) == ("cs", "120802")
    assert anonymous.json() == {"anonymous": True, "sub": "anonymous"}
    assert machine.json()["principal"]["client"] is True
    assert machine.json()["principal"]["scopes"] == ["things.read"]
