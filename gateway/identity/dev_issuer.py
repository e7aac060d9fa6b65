"""The development identity provider: demo people at every tier and demo machine clients.

Enabled only with `GATEWAY_DEV_ISSUER_ENABLED=true` in development or test (`make run` does).
It mimics the claims the production Keycloak realm (deploy/keycloak/) produces. The demo area
is Khan Sen Sok, Phnom Penh. `python -m gateway.identity.dev_issuer` prints tokens and ready
curl lines.
"""

from __future__ import annotations

import argparse
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import jwt
from cryptography.hazmat.primitives import serialization
from fastapi import APIRouter, Form, Request
from jwt.algorithms import ECAlgorithm

from shared.platform import GATEWAY_PORT, LOCAL_HOST
from shared.problems import Problem

DEV_KEY_PEM = (Path(__file__).parent.parent / "devkeys" / "dev-issuer.key.pem").read_text()
KID = "sp-dev-issuer-1"
# How long the tokens it mints last, people's and machine clients' alike (README, "Getting a
# token locally"): a working day of trying the API without fetching new ones.
TOKEN_TTL_SECONDS = 12 * 3600
DEMO_PASSWORD = "demo"  # noqa: S105 - the demo users' shared password, development only
ALL_ROLES = [
    "viewer",
    "registry.officer",
    "registry.verifier",
    "grievance.handler",
    "grievance.sensitive",
    "isaf.facilitator",
    "budget.planner",
    "budget.approver",
]


@dataclass(frozen=True)
class DemoPerson:
    username: str
    name: str
    tier: str
    admin_code: str
    roles: list[str]


@dataclass(frozen=True)
class DemoClient:
    client_id: str
    secret: str
    scopes: list[str] = field(default_factory=list)
    description: str = ""


PEOPLE = [
    DemoPerson(
        "national.officer",
        "National SP officer",
        "national",
        "",
        [
            "viewer",
            "registry.verifier",
            "grievance.handler",
            "grievance.sensitive",
            "budget.planner",
            "budget.approver",
        ],
    ),
    DemoPerson(
        "cp.phnom-penh",
        "Phnom Penh capital officer",
        "cp",
        "12",
        ["viewer", "grievance.handler", "grievance.sensitive", "budget.approver", "budget.planner"],
    ),
    DemoPerson(
        "dmk.sen-sok",
        "Khan Sen Sok officer",
        "dmk",
        "1208",
        [
            "viewer",
            "registry.verifier",
            "grievance.handler",
            "grievance.sensitive",
            "isaf.facilitator",
            "budget.approver",
            "budget.planner",
        ],
    ),
    DemoPerson(
        "cs.phnom-penh-thmei",
        "Sangkat Phnom Penh Thmei officer",
        "cs",
        "120801",
        ["viewer", "registry.officer", "grievance.handler", "isaf.facilitator", "budget.planner"],
    ),
    DemoPerson(
        "cs.tuek-thla",
        "Sangkat Tuek Thla officer",
        "cs",
        "120802",
        ["viewer", "registry.officer", "grievance.handler", "isaf.facilitator", "budget.planner"],
    ),
    DemoPerson(
        "cp.banteay-meanchey",
        "Banteay Meanchey province officer",
        "cp",
        "01",
        ["viewer", "grievance.handler", "budget.approver", "budget.planner"],
    ),
    # A second person at each allocating unit of the demo chain who only approves: a run is
    # approved by someone other than its proposer (the officer above, a planner).
    DemoPerson(
        "national.approver",
        "National budget approver",
        "national",
        "",
        ["viewer", "budget.approver"],
    ),
    DemoPerson(
        "cp.phnom-penh.approver",
        "Phnom Penh capital budget approver",
        "cp",
        "12",
        ["viewer", "budget.approver"],
    ),
    DemoPerson(
        "dmk.sen-sok.approver",
        "Khan Sen Sok budget approver",
        "dmk",
        "1208",
        ["viewer", "budget.approver"],
    ),
]
CLIENTS = [
    DemoClient(
        "moh-health-equity",
        "moh-health-equity-secret",
        ["registry.dci.search", "registry.verification.read"],
        "Ministry of Health system checking health-equity-fund eligibility",
    ),
    DemoClient(
        "pp-social-services",
        "pp-social-services-secret",
        ["registry.dci.search", "registry.dci.area.12"],
        "Phnom Penh social-services system: DCI social-registry search limited to its area",
    ),
    DemoClient(
        "sp-read-model",
        "sp-read-model-secret",
        ["registry.snapshot.read", "grievance.snapshot.read"],
        "An integrator's read model: takes the registry's and the grievance service's "
        "snapshots, then follows the topics",
    ),
    DemoClient(
        "partner-without-scope",
        "partner-without-scope-secret",
        [],
        "A registered client granted no scope (is refused everywhere)",
    ),
]


class DevIssuer:
    def __init__(self, issuer: str, audience: str, key_pem: str = DEV_KEY_PEM) -> None:
        self.issuer = issuer
        self.audience = audience
        self._key = serialization.load_pem_private_key(key_pem.encode(), password=None)

    def jwk(self) -> dict[str, Any]:
        jwk = ECAlgorithm.to_jwk(self._key.public_key(), as_dict=True)
        return {**jwk, "kid": KID, "alg": "ES256", "use": "sig"}

    def _sign(self, claims: dict[str, Any], ttl: int) -> str:
        now = int(time.time())
        body = {
            "iss": self.issuer,
            "aud": self.audience,
            "iat": now,
            "nbf": now,
            "exp": now + ttl,
            "jti": uuid.uuid4().hex,
            **claims,
        }
        return jwt.encode(body, self._key, algorithm="ES256", headers={"kid": KID})

    def person_token(self, username: str, ttl: int = TOKEN_TTL_SECONDS) -> str:
        person = next((p for p in PEOPLE if p.username == username), None)
        if person is None:
            raise KeyError(username)
        return self._sign(
            {
                "sub": f"demo:{person.username}",
                "preferred_username": person.username,
                "name": person.name,
                "tier": person.tier,
                "admin_code": person.admin_code,
                "roles": person.roles,
            },
            ttl,
        )

    def client_token(self, client_id: str, ttl: int = TOKEN_TTL_SECONDS) -> str:
        client = next((c for c in CLIENTS if c.client_id == client_id), None)
        if client is None:
            raise KeyError(client_id)
        return self._sign(
            {
                "sub": f"service-account-{client.client_id}",
                "client_id": client.client_id,
                "azp": client.client_id,
                "scope": " ".join(client.scopes),
            },
            ttl,
        )


def dev_issuer_router(issuer: DevIssuer) -> APIRouter:
    router = APIRouter(prefix="/dev/idp", tags=["development identity provider"])

    @router.get("/.well-known/openid-configuration", include_in_schema=False)
    async def discovery(request: Request) -> dict:
        return {
            "issuer": issuer.issuer,
            "jwks_uri": f"{issuer.issuer}/jwks.json",
            "token_endpoint": f"{issuer.issuer}/token",
            "grant_types_supported": ["client_credentials", "password"],
            "id_token_signing_alg_values_supported": ["ES256"],
        }

    @router.get("/jwks.json", include_in_schema=False)
    async def jwks() -> dict:
        return {"keys": [issuer.jwk()]}

    @router.post("/token", include_in_schema=False)
    async def token(
        grant_type: Annotated[str, Form()],
        client_id: Annotated[str | None, Form()] = None,
        client_secret: Annotated[str | None, Form()] = None,
        username: Annotated[str | None, Form()] = None,
        password: Annotated[str | None, Form()] = None,
    ) -> dict:
        if grant_type == "client_credentials":
            client = next((c for c in CLIENTS if c.client_id == client_id), None)
            if client is None or client.secret != client_secret:
                raise Problem.unauthorized("Unknown client or wrong secret.")
            return {
                "access_token": issuer.client_token(client.client_id),
                "token_type": "Bearer",
                "expires_in": TOKEN_TTL_SECONDS,
            }
        if grant_type == "password":
            if password != DEMO_PASSWORD or username not in {p.username for p in PEOPLE}:
                raise Problem.unauthorized("Unknown demo user or wrong password.")
            return {
                "access_token": issuer.person_token(username),
                "token_type": "Bearer",
                "expires_in": TOKEN_TTL_SECONDS,
            }
        raise Problem.invalid("grant_type", "use client_credentials or password", status=400)

    return router


def export_lines(issuer: DevIssuer, *, only: str | None = None) -> list[str]:
    """`export TOKEN_...=...` shell lines for the demo people and clients, with a comment each."""
    lines = []
    for person in PEOPLE:
        if only in (None, person.username):
            variable = "TOKEN_" + person.username.upper().replace(".", "_").replace("-", "_")
            lines.append(
                f"# {person.name}: {person.tier} {person.admin_code or '(national)'}, "
                f"roles {', '.join(person.roles)}"
            )
            lines.append(f"export {variable}={issuer.person_token(person.username)}")
    for client in CLIENTS:
        if only in (None, client.client_id):
            variable = "TOKEN_" + client.client_id.upper().replace("-", "_")
            lines.append(
                f"# machine client {client.client_id}: scopes {' '.join(client.scopes) or '(none)'}"
            )
            lines.append(f"export {variable}={issuer.client_token(client.client_id)}")
    return lines


def issuer_url(gateway: str, configured: str | None) -> str:
    """The issuer the gateway at `gateway` accepts: GATEWAY_DEV_ISSUER_URL when set (what
    the gateway itself reads), else the development issuer under that gateway."""
    return configured or f"{gateway.rstrip('/')}/dev/idp"


def main(argv: list[str] | None = None) -> None:
    from gateway.config import get_settings

    port = os.environ.get("SP_GATEWAY_PORT") or str(GATEWAY_PORT)
    parser = argparse.ArgumentParser(description="Print development tokens for the demo users.")
    parser.add_argument(
        "--port",
        default=port,
        help="the port the gateway runs on (default: SP_GATEWAY_PORT, else 8000)",
    )
    parser.add_argument("--gateway", help="the gateway's URL (default: http://127.0.0.1:<port>)")
    parser.add_argument("--only", help="one username or client id")
    args = parser.parse_args(argv)
    gateway = args.gateway or f"http://{LOCAL_HOST}:{args.port}"
    settings = get_settings()
    # The tokens name the issuer of the gateway they are for (the one `make run` started on
    # SP_GATEWAY_PORT), unless GATEWAY_DEV_ISSUER_URL says otherwise, as it does for that
    # gateway too.
    explicit = settings.dev_issuer_url if "dev_issuer_url" in settings.model_fields_set else None
    issuer = DevIssuer(issuer_url(gateway, explicit), settings.oidc_audience)
    args.gateway = gateway
    print("\n".join(export_lines(issuer, only=args.only)))
    print(f'\ncurl -s -H "Authorization: Bearer $TOKEN_CS_PHNOM_PENH_THMEI" {args.gateway}/health')


if __name__ == "__main__":
    main()
