"""The internal principal token the gateway signs and services verify."""

from __future__ import annotations

import time

import jwt
import pytest

from shared.principal import InternalTokenVerifier, Principal
from shared.problems import Problem
from shared.settings import DEV_INTERNAL_TOKEN_PRIVATE_KEY, DEV_INTERNAL_TOKEN_PUBLIC_KEY
from tests.harness import CS_PHNOM_PENH_THMEI, SIGNER

VERIFIER = InternalTokenVerifier(DEV_INTERNAL_TOKEN_PUBLIC_KEY, audience="registry")


def test_a_signed_principal_round_trips():
    machine = Principal(sub="client:moh", client=True, scopes=frozenset({"registry.dci.search"}))
    for principal in (CS_PHNOM_PENH_THMEI, machine, Principal.anonymous()):
        assert VERIFIER.verify(SIGNER.sign(principal, audience="registry")) == principal


def test_the_token_is_short_lived_and_for_one_service():
    token = SIGNER.sign(CS_PHNOM_PENH_THMEI, audience="registry")
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["aud"] == "registry" and claims["iss"] == "sp-gateway"
    assert claims["exp"] - claims["iat"] == 60
    with pytest.raises(Problem):
        InternalTokenVerifier(DEV_INTERNAL_TOKEN_PUBLIC_KEY, audience="budget").verify(token)


def test_expired_unsigned_and_hmac_tokens_are_refused():
    from cryptography.hazmat.primitives import serialization

    now = int(time.time())
    base = {
        "iss": "sp-gateway",
        "aud": "registry",
        "sub": "x",
        "tier": "national",
        "admin_code": "",
        "iat": now - 600,
        "exp": now - 300,
    }
    key = serialization.load_pem_private_key(DEV_INTERNAL_TOKEN_PRIVATE_KEY.encode(), None)
    expired = jwt.encode(base, key, algorithm="EdDSA")
    unsigned = jwt.encode({**base, "exp": now + 60}, None, algorithm="none")
    for token in (
        expired,
        unsigned,
        hs256_signed_with_public_key({**base, "exp": now + 60}),
        "garbage",
    ):
        with pytest.raises(Problem) as refused:
            VERIFIER.verify(token)
        assert refused.value.status == 401


def hs256_signed_with_public_key(claims: dict) -> str:
    """The classic confusion attack: an HMAC token keyed with the (public) verification key."""
    import base64
    import hashlib
    import hmac
    import json

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).decode().rstrip("=")

    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    signing_input = f"{header}.{b64(json.dumps(claims).encode())}"
    signature = hmac.new(
        DEV_INTERNAL_TOKEN_PUBLIC_KEY.encode(), signing_input.encode(), hashlib.sha256
    ).digest()
    return f"{signing_input}.{b64(signature)}"
