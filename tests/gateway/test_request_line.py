"""What an attacker puts in the request line and the forwarding headers: the path the policy
judged is the path the service serves, nothing undecodable reaches a service or crashes the
gateway, no internal address leaks through a redirect, and forged X-Forwarded-For chains do not
change who the client is."""

from __future__ import annotations

import httpx
import pytest

from devstack.postgres import free_port
from devstack.run import Stack
from gateway.addresses import SERVER_OPTIONS, TrustedProxies
from gateway.main import create_app
from gateway.paths import read_path
from shared.problems import Problem
from tests.gateway.conftest import (
    ISSUER,
    POLICY,
    gateway_client,
    gateway_settings,
    start_process,
    stop_process,
)
from tests.harness import ROOT, running


def bearer(issuer, who: str = "national.officer") -> dict[str, str]:
    return {"Authorization": f"Bearer {issuer.person_token(who)}"}


# -- the path, read once -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "decoded", "forwarded"),
    [
        (b"/registry/households/abc", "/registry/households/abc", "/registry/households/abc"),
        # A doubly encoded slash is one segment holding "%2F": it stays one segment.
        (b"/registry/households/x%252Fhistory", "/registry/households/x%2Fhistory",
         "/registry/households/x%252Fhistory"),
        # An encoded "?" is part of the segment, never the start of a query.
        (b"/registry/imports/%3Fx=1", "/registry/imports/?x=1", "/registry/imports/%3Fx=1"),
        ("/registry/members/ស្រី".encode(), "/registry/members/ស្រី",
         "/registry/members/%E1%9E%9F%E1%9F%92%E1%9E%9A%E1%9E%B8"),
        (b"/registr%79/things", "/registry/things", "/registry/things"),
    ],
)  # fmt: skip
def test_the_policy_sees_what_the_service_will_decode(raw, decoded, forwarded):
    path = read_path(raw, "")
    assert (path.decoded, path.forwarded) == (decoded, forwarded)


@pytest.mark.parametrize(
    "raw",
    [
        b"/registry/households/x%2Fhistory",  # encoded slash
        b"/registry/households/x%2fhistory",
        b"/registry/households/x%5Chistory",  # encoded backslash
        b"/registry/households/..",
        b"/registry/households/%2e%2e/history",
        b"/registry/households/%2E",
        b"/registry/households/a%00b",
        b"/registry/households/a%09b",
        b"/registry/households/a%0D%0Ab",
        b"/registry/households/a%7Fb",
        b"/registry/households/a%C2%85b",  # NEL, a C1 control
        b"/registry/households/%FF",  # not UTF-8
    ],
)
def test_paths_a_service_could_read_otherwise_are_refused(raw):
    with pytest.raises(Problem) as refused:
        read_path(raw, "")
    assert refused.value.status == 400


@pytest.mark.parametrize(
    "path",
    [
        "/registry/things/x%2Fhistory",
        "/registry/things/%2e%2e",
        "/registry/things/a%00b",
        "/registry/things/a%09b",
        "/registry/things/a%0D%0Ab",
    ],
)
async def test_the_gateway_answers_400_problems_for_them_never_500(gateway, issuer, path):
    async with gateway_client(gateway) as client:
        response = await client.get(path, headers=bearer(issuer, "cs.tuek-thla"))
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "Traceback" not in response.text


async def test_a_doubly_encoded_slash_reaches_the_service_as_the_segment_authorised(
    gateway, issuer
):
    async with gateway_client(gateway) as client:
        response = await client.get(
            "/registry/things/x%252Fhistory", headers=bearer(issuer, "cs.tuek-thla")
        )
    assert response.status_code == 200, response.text
    assert response.json()["id"] == "x%2Fhistory"


# -- redirects ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("to", "location"),
    [
        ("/things/abc", "/registry/things/abc"),
        ("/abs/things/abc", "/registry/abs/things/abc"),  # the service's own absolute address
        ("https://elsewhere.example/x", "/registry/"),
    ],
)
async def test_redirects_point_through_the_gateway_never_at_the_service(
    gateway, issuer, to, location
):
    async with gateway_client(gateway) as client:
        response = await client.get("/registry/moved", params={"to": to}, headers=bearer(issuer))
    assert response.status_code == 303
    assert response.headers["location"] == location
    assert "127.0.0.1" not in response.headers["location"]


# -- the client's address ----------------------------------------------------------------------


def scope(peer: str, forwarded_for: str | None = None) -> dict:
    headers = [(b"x-forwarded-for", forwarded_for.encode())] if forwarded_for else []
    return {"client": (peer, 1234), "headers": headers}


def test_without_trusted_proxies_the_peer_is_the_client_whatever_the_header_says():
    proxies = TrustedProxies([])
    assert proxies.client_address(scope("198.51.100.4", "1.2.3.4")) == "198.51.100.4"


def test_the_rightmost_address_a_trusted_proxy_did_not_add_is_the_client():
    proxies = TrustedProxies(["10.0.0.0/8"])
    # The ingress (10.1.2.3) appended the address it saw; what the client wrote is to its left.
    assert proxies.client_address(scope("10.1.2.3", "6.6.6.6, 198.51.100.4")) == "198.51.100.4"
    # Two trusted hops (a load balancer, then the ingress).
    assert (
        proxies.client_address(scope("10.1.2.3", "6.6.6.6, 198.51.100.4, 10.9.9.9"))
        == "198.51.100.4"
    )
    # A peer outside the trusted range is its own client, header or not.
    assert proxies.client_address(scope("198.51.100.7", "10.9.9.9")) == "198.51.100.7"
    # Garbage behind a trusted hop: the client is no further than that hop.
    assert proxies.client_address(scope("10.1.2.3", "not-an-ip")) == "10.1.2.3"


async def test_rotating_forwarded_for_does_not_escape_the_public_rate_limit(upstream_url):
    """The public rate class allows a burst of 3. Behind a trusted proxy, a client rotating the
    leftmost X-Forwarded-For address is still one client: the fourth post is refused."""
    app = create_app(gateway_settings(upstream_url, trusted_proxies="203.0.113.7"))
    statuses = []
    async with running(app), gateway_client(app) as client:
        for n in range(5):
            response = await client.post(
                "/registry/public/feedback",
                json={},
                headers={"X-Forwarded-For": f"192.0.2.{n}, 198.51.100.4"},
            )
            statuses.append(response.status_code)
    assert statuses[:3] == [202, 202, 202]
    assert statuses[3:] == [429, 429]


def test_a_trusted_proxy_setting_that_is_not_an_address_stops_the_gateway(upstream_url):
    with pytest.raises(ValueError, match="not an address or CIDR range"):
        gateway_settings(upstream_url, trusted_proxies="10.0.0.0/8, ingress.local")


def test_every_way_of_running_the_gateway_leaves_forwarding_headers_to_it():
    dockerfile = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    cmd = next(line for line in dockerfile.splitlines() if line.startswith("CMD"))
    assert '"gateway.main:app"' in cmd
    for option in SERVER_OPTIONS:
        assert f'"{option}"' in cmd
    stack = Stack()
    stack.plan_processes()
    gateway = next(p for p in stack.procs if p.name == "gateway")
    assert set(SERVER_OPTIONS) <= set(gateway.options)


async def test_a_real_gateway_process_is_not_fooled_by_forged_forwarding_headers(
    upstream_url, issuer
):
    """The gateway as it runs (uvicorn with SERVER_OPTIONS), reached from this machine: uvicorn
    trusts X-Forwarded-For from 127.0.0.1 by default, which made every rotated header a new
    client. Now the fourth public post of one client is refused whatever it writes there."""
    port = free_port()
    process = start_process(
        ["gateway.main:app", *SERVER_OPTIONS],
        {
            "GATEWAY_REGISTRY_URL": upstream_url,
            "GATEWAY_POLICY_FILE": str(POLICY),
            "GATEWAY_DEV_ISSUER_ENABLED": "true",
            "GATEWAY_DEV_ISSUER_URL": ISSUER,
            "GATEWAY_LOG_JSON": "false",
            "SP_ENVIRONMENT": "test",
        },
        port,
        "/ready",
    )
    try:
        statuses = []
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            for n in range(5):
                response = await client.post(
                    "/registry/public/feedback",
                    json={},
                    headers={"X-Forwarded-For": f"192.0.2.{n}"},
                )
                statuses.append(response.status_code)
    finally:
        stop_process(process)
    assert statuses == [202, 202, 202, 429, 429]


async def test_a_method_the_route_does_not_take_is_405_naming_the_ones_it_does(gateway, issuer):
    async with gateway_client(gateway) as client:
        response = await client.delete("/registry/things", headers=bearer(issuer))
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"
    # /things takes GET (so HEAD) and POST: RFC 9110 requires Allow on every 405.
    assert response.headers["allow"] == "GET, HEAD, POST"
