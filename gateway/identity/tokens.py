"""Bearer token verification: signature, issuer, audience, time, algorithm allow-list.

Verified tokens are cached until they expire, so a portal reusing its token for minutes
costs one signature check, not one per request.
"""

from __future__ import annotations

import time
from collections import OrderedDict

import jwt

from gateway.identity.claims import ClaimsError, principal_from_claims
from gateway.identity.jwks import JwksCache, JwksError
from shared.principal import Principal
from shared.problems import INVALID_TOKEN, Problem

ALLOWED_ALGORITHMS = ("RS256", "ES256", "EdDSA")
# Which key types may verify which algorithm: an RSA key never checks an ES256 token etc.
_KEY_TYPE_FOR_ALG = {"RS256": "RSA", "ES256": "EC", "EdDSA": "OKP"}


def _unauthorized(detail: str) -> Problem:
    return Problem(
        401,
        detail,
        slug=INVALID_TOKEN,
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


class TokenVerifier:
    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        jwks: JwksCache,
        leeway: int = 30,
        algorithms: tuple[str, ...] = ALLOWED_ALGORITHMS,
        cache_size: int = 10_000,
    ):
        unknown = set(algorithms) - set(ALLOWED_ALGORITHMS)
        if unknown:
            raise ValueError(f"algorithms not allowed: {sorted(unknown)}")
        self.issuer = issuer
        self.audience = audience
        self.jwks = jwks
        self.leeway = leeway
        self.algorithms = algorithms
        self._cache: OrderedDict[str, tuple[Principal, float]] = OrderedDict()
        self._cache_size = cache_size

    async def verify(self, token: str) -> Principal:
        cached = self._cache.get(token)
        if cached is not None:
            principal, expires = cached
            if time.time() < expires:
                return principal
            del self._cache[token]
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise _unauthorized("The bearer token is not a JWT.") from exc
        alg = header.get("alg")
        if alg not in self.algorithms:
            raise _unauthorized(f"Tokens signed with {alg!r} are not accepted.")
        try:
            key = await self.jwks.get(header.get("kid"))
        except JwksError as exc:
            raise _unauthorized(
                "The token was not signed by a key of the identity provider."
            ) from exc
        if key.key_type != _KEY_TYPE_FOR_ALG[alg]:
            raise _unauthorized("The token's algorithm does not match its signing key.")
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[alg],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise _unauthorized("The token has expired.") from exc
        except jwt.ImmatureSignatureError as exc:
            raise _unauthorized("The token is not valid yet.") from exc
        except jwt.InvalidAudienceError as exc:
            raise _unauthorized("The token was issued for another audience.") from exc
        except jwt.InvalidIssuerError as exc:
            raise _unauthorized("The token was issued by another issuer.") from exc
        except jwt.PyJWTError as exc:
            raise _unauthorized(f"The token is not valid: {exc}.") from exc
        try:
            principal = principal_from_claims(claims)
        except ClaimsError as exc:
            raise _unauthorized(f"The token's claims are not acceptable: {exc}.") from exc
        self._cache[token] = (principal, float(claims["exp"]))
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return principal
