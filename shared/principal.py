"""Who is calling: the principal the gateway vouches for, and how services read it.

The gateway verifies the caller's JWT, then forwards the principal to the service as a
short-lived internal token signed with its Ed25519 key (audience = that service), in the
`X-Internal-Token` header. A service accepts no request without a valid one, so calling a
service directly, around the gateway, gets 401.
"""

from __future__ import annotations

import time
import uuid
from typing import Annotated

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from fastapi import Depends, Request
from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.types import ASGIApp, Receive, Scope, Send

from shared.problems import Problem, problem_response
from shared.tiers import CODE_LENGTH, Tier

INTERNAL_TOKEN_HEADER = "x-internal-token"  # noqa: S105 - a header name
INTERNAL_TOKEN_HEADER_BYTES = INTERNAL_TOKEN_HEADER.encode()
INTERNAL_ISSUER = "sp-gateway"
INTERNAL_TOKEN_TTL_SECONDS = 60


class Principal(BaseModel):
    """A person at a tier, a machine client with scopes, or an anonymous citizen."""

    model_config = ConfigDict(frozen=True)

    sub: str
    name: str = ""
    tier: Tier | None = None  # None: anonymous (public routes) or a machine client
    admin_code: str = ""
    roles: frozenset[str] = Field(default_factory=frozenset)
    scopes: frozenset[str] = Field(default_factory=frozenset)
    client: bool = False  # a machine client (OAuth2 client credentials)

    @model_validator(mode="after")
    def _code_fits_tier(self) -> Principal:
        if self.tier is not None:
            expected = CODE_LENGTH[self.tier]
            if len(self.admin_code) != expected or not (self.admin_code.isdigit() or expected == 0):
                raise ValueError(
                    f"admin_code {self.admin_code!r} does not fit tier {self.tier.value} "
                    f"({expected} digits)"
                )
        return self

    @property
    def is_anonymous(self) -> bool:
        return self.tier is None and not self.client

    @property
    def is_national(self) -> bool:
        return self.tier is Tier.NATIONAL

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def has_scope(self, *scopes: str) -> bool:
        return bool(self.scopes.intersection(scopes))

    def covers(self, location_code: str | None) -> bool:
        """Whether a record at `location_code` lies within this principal's area."""
        if self.tier is Tier.NATIONAL:
            return True
        if self.tier is None or location_code is None:
            return False
        return location_code.startswith(self.admin_code)

    @classmethod
    def anonymous(cls) -> Principal:
        return cls(sub="anonymous")


class InternalTokenSigner:
    """Used by the gateway only."""

    def __init__(self, private_key_pem: str, *, ttl_seconds: int = INTERNAL_TOKEN_TTL_SECONDS):
        self._key = load_ed25519_key(private_key_pem, private=True)
        self._ttl = ttl_seconds

    def sign(self, principal: Principal, *, audience: str) -> str:
        now = int(time.time())
        claims = {
            "iss": INTERNAL_ISSUER,
            "aud": audience,
            "iat": now,
            "exp": now + self._ttl,
            "jti": uuid.uuid4().hex,
            "sub": principal.sub,
            "name": principal.name,
            "tier": principal.tier.value if principal.tier else None,
            "admin_code": principal.admin_code,
            "roles": sorted(principal.roles),
            "scope": " ".join(sorted(principal.scopes)),
            "client": principal.client,
        }
        return jwt.encode(claims, self._key, algorithm="EdDSA")


class InternalTokenVerifier:
    def __init__(self, public_key_pem: str, *, audience: str, leeway: int = 5) -> None:
        self._key = load_ed25519_key(public_key_pem, private=False)
        self._audience = audience
        self._leeway = leeway
        self._cache: dict[str, tuple[Principal, float]] = {}

    def verify(self, token: str) -> Principal:
        cached = self._cache.get(token)
        if cached is not None and cached[1] > time.time():
            return cached[0]
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=["EdDSA"],
                audience=self._audience,
                issuer=INTERNAL_ISSUER,
                leeway=self._leeway,
                options={"require": ["exp", "iat", "aud", "iss", "sub"]},
            )
            principal = Principal(
                sub=claims["sub"],
                name=claims.get("name") or "",
                tier=claims.get("tier"),
                admin_code=claims.get("admin_code") or "",
                roles=frozenset(claims.get("roles") or ()),
                scopes=frozenset((claims.get("scope") or "").split()),
                client=bool(claims.get("client")),
            )
        except (jwt.PyJWTError, ValueError) as exc:
            raise Problem.unauthorized("The internal principal token is not valid.") from exc
        # The gateway reuses a token for half its life; checking its signature once is enough.
        if len(self._cache) >= 10_000:
            self._cache.clear()
        self._cache[token] = (principal, float(claims["exp"]))
        return principal


# What a service answers without the gateway's token: liveness, readiness, metrics and its
# API description (the gateway merges it). Everything else needs the token, even a 404.
OPEN_PATHS = frozenset({"/health", "/ready", "/metrics", "/openapi.json"})


class InternalTokenGuard:
    """ASGI middleware of every service: no valid internal token, no answer but 401."""

    def __init__(self, app: ASGIApp, *, verifier: InternalTokenVerifier) -> None:
        self.app = app
        self.verifier = verifier

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        token = None
        for name, value in scope["headers"]:
            if name == INTERNAL_TOKEN_HEADER_BYTES:
                token = value.decode("latin-1")
                break
        try:
            if token is None:
                raise Problem.unauthorized("Requests reach this service only through the gateway.")
            principal = self.verifier.verify(token)
        except Problem as problem:
            await problem_response(None, problem, instance=scope["path"])(scope, receive, send)
            return
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)


def load_ed25519_key(pem: str, *, private: bool):
    data = pem.encode()
    key = (
        serialization.load_pem_private_key(data, password=None)
        if private
        else serialization.load_pem_public_key(data)
    )
    expected = ed25519.Ed25519PrivateKey if private else ed25519.Ed25519PublicKey
    if not isinstance(key, expected):
        raise ValueError("the internal token key must be an Ed25519 key in PEM")
    return key


async def current_principal(request: Request) -> Principal:
    """The principal `InternalTokenGuard` verified for this request."""
    principal = getattr(request.state, "principal", None)
    if principal is None:
        raise Problem.unauthorized("Requests reach this service only through the gateway.")
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]
