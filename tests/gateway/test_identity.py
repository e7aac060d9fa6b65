"""Every way a bearer token can be wrong is a 401 problem document, and the service sees none."""

from __future__ import annotations

import base64
import json
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from gateway.identity.dev_issuer import KID
from tests.gateway.conftest import ISSUER, gateway_client


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def claims(**overrides) -> dict:
    now = int(time.time())
    base = {
        "iss": ISSUER,
        "aud": "sp-platform",
        "sub": "demo:cs",
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "tier": "cs",
        "admin_code": "120801",
        "roles": ["registry.officer"],
        "jti": uuid.uuid4().hex,
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def sign(issuer, body: dict, **header) -> str:
    return jwt.encode(body, issuer._key, algorithm="ES256", headers={"kid": KID, **header})


async def call(gateway, token: str | None, path: str = "/registry/things"):
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    async with gateway_client(gateway) as client:
        return await client.get(path, headers=headers)


def assert_401(response, fragment: str) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 401 and fragment in body["detail"], body["detail"]
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_a_valid_token_passes(gateway, issuer):
    response = await call(gateway, issuer.person_token("cs.phnom-penh-thmei"))
    assert response.status_code == 200
    assert response.json()["principal"]["admin_code"] == "120801"


async def test_no_token_on_a_protected_route(gateway):
    assert_401(await call(gateway, None), "needs a bearer token")


async def test_alg_none_is_refused(gateway):
    token = (
        f"{b64(json.dumps({'alg': 'none', 'typ': 'JWT'}).encode())}."
        f"{b64(json.dumps(claims()).encode())}."
    )
    assert_401(await call(gateway, token), "'none' are not accepted")


async def test_hs256_signed_with_the_public_key_is_refused(gateway, issuer):
    import hashlib
    import hmac

    public_jwk = json.dumps(issuer.jwk()).encode()
    head = b64(json.dumps({"alg": "HS256", "kid": KID}).encode())
    body = b64(json.dumps(claims()).encode())
    signature = hmac.new(public_jwk, f"{head}.{body}".encode(), hashlib.sha256).digest()
    assert_401(await call(gateway, f"{head}.{body}.{b64(signature)}"), "'HS256' are not accepted")


async def test_a_token_for_another_audience_or_issuer(gateway, issuer):
    assert_401(await call(gateway, sign(issuer, claims(aud="another-system"))), "another audience")
    assert_401(
        await call(gateway, sign(issuer, claims(iss="https://evil.example/idp"))), "another issuer"
    )


async def test_expired_and_not_yet_valid_tokens(gateway, issuer):
    now = int(time.time())
    expired = sign(issuer, claims(iat=now - 3600, nbf=now - 3600, exp=now - 120))
    assert_401(await call(gateway, expired), "expired")
    future = sign(issuer, claims(nbf=now + 600, exp=now + 900))
    assert_401(await call(gateway, future), "not valid yet")


async def test_small_clock_skew_is_tolerated(gateway, issuer):
    now = int(time.time())
    response = await call(gateway, sign(issuer, claims(exp=now - 5, nbf=now + 5)))
    assert response.status_code == 200


async def test_a_token_signed_by_an_unknown_key_is_refused(gateway, issuer):
    other = ec.generate_private_key(ec.SECP256R1())
    token = jwt.encode(claims(), other, algorithm="ES256", headers={"kid": KID})
    assert_401(await call(gateway, token), "not valid")
    unknown_kid = jwt.encode(claims(), other, algorithm="ES256", headers={"kid": "rotated-away"})
    assert_401(await call(gateway, unknown_kid), "not signed by a key of the identity provider")


@pytest.mark.parametrize(
    "key",
    [rsa.generate_private_key(65537, 2048), ed25519.Ed25519PrivateKey.generate()],
    ids=["RS256", "EdDSA"],
)
async def test_an_allowed_algorithm_with_the_wrong_key_type_is_refused(gateway, key):
    alg = "RS256" if isinstance(key, rsa.RSAPrivateKey) else "EdDSA"
    token = jwt.encode(claims(), key, algorithm=alg, headers={"kid": KID})
    assert_401(await call(gateway, token), "does not match its signing key")


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"tier": "cs", "admin_code": "1208"}, "does not fit tier cs"),
        ({"tier": "dmk", "admin_code": "1299"}, "not in the NCDD gazetteer"),
        ({"tier": "mayor", "admin_code": "12"}, "unknown tier"),
        ({"tier": None, "admin_code": None}, "neither a tier"),
        ({"roles": "registry.officer"}, "roles must be a list"),
    ],
)
async def test_claims_that_do_not_fit_are_refused(gateway, issuer, overrides, fragment):
    assert_401(await call(gateway, sign(issuer, claims(**overrides))), fragment)


async def test_garbage_and_other_schemes(gateway):
    assert_401(await call(gateway, "not-a-jwt"), "not a JWT")
    async with gateway_client(gateway) as client:
        basic = await client.get("/registry/things", headers={"Authorization": "Basic YTpi"})
    assert_401(basic, "Bearer scheme")


async def test_the_development_issuer_serves_jwks_and_tokens(gateway):
    async with gateway_client(gateway) as client:
        keys = (await client.get("/dev/idp/jwks.json")).json()["keys"]
        person = await client.post(
            "/dev/idp/token",
            data={"grant_type": "password", "username": "dmk.sen-sok", "password": "demo"},
        )
        machine = await client.post(
            "/dev/idp/token",
            data={
                "grant_type": "client_credentials",
                "client_id": "moh-health-equity",
                "client_secret": "moh-health-equity-secret",
            },
        )
        wrong = await client.post(
            "/dev/idp/token",
            data={
                "grant_type": "client_credentials",
                "client_id": "moh-health-equity",
                "client_secret": "guess",
            },
        )
    assert keys[0]["kid"] == KID and keys[0]["kty"] == "EC"
    assert person.status_code == machine.status_code == 200
    assert wrong.status_code == 401
    dmk = (await call(gateway, person.json()["access_token"])).json()["principal"]
    assert (dmk["tier"], dmk["admin_code"]) == ("dmk", "1208")


async def test_the_development_issuer_is_refused_in_production(upstream_url):
    from pydantic import ValidationError

    from tests.gateway.conftest import gateway_settings

    with pytest.raises(ValidationError, match="development and test only"):
        gateway_settings(upstream_url, environment="production", internal_token_private_key="x")
