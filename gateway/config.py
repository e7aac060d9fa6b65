"""Settings of the gateway (env prefix `GATEWAY_`)."""

from __future__ import annotations

import ipaddress
from functools import cache
from pathlib import Path
from typing import Annotated, ClassVar

from pydantic import field_validator, model_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from shared.platform import GATEWAY_PORT, LOCAL_HOST, SERVICES, default_url
from shared.settings import DEV_INTERNAL_TOKEN_PRIVATE_KEY, ProcessSettings

DEFAULT_POLICY = Path(__file__).parent / "policy.yml"


class Settings(ProcessSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore", populate_by_name=True)
    development_secrets: ClassVar[dict[str, str]] = {
        "internal_token_private_key": DEV_INTERNAL_TOKEN_PRIVATE_KEY,
    }

    registry_url: str = default_url("registry")
    grievance_url: str = default_url("grievance")
    isaf_url: str = default_url("isaf")
    budget_url: str = default_url("budget")
    # PEM of the Ed25519 key that signs the internal principal token sent to services.
    internal_token_private_key: str = DEV_INTERNAL_TOKEN_PRIVATE_KEY

    # The identity provider (Keycloak in production): issuer, audience and JWKS URL.
    oidc_issuer: str = ""
    oidc_audience: str = "sp-platform"
    oidc_jwks_url: str = ""
    token_leeway_seconds: int = 30
    # The development issuer (demo users and clients); never outside development and test.
    dev_issuer_enabled: bool = False
    dev_issuer_url: str = f"http://{LOCAL_HOST}:{GATEWAY_PORT}/dev/idp"

    policy_file: Path = DEFAULT_POLICY
    cors_origins: list[str] = []
    # The proxies in front of the gateway whose X-Forwarded-For hops are believed (addresses
    # or CIDR ranges, comma-separated); empty: the TCP peer is the client (gateway/addresses.py).
    trusted_proxies: Annotated[list[str], NoDecode] = []
    max_body_bytes: int = 10 * 1024 * 1024
    upstream_timeout_seconds: float = 10.0
    upstream_max_connections: int = 200
    breaker_failure_threshold: int = 5
    breaker_reset_seconds: float = 10.0
    openapi_cache_seconds: float = 5.0

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxy_list(cls, value: object) -> object:
        if isinstance(value, str):
            value = [p.strip() for p in value.split(",") if p.strip()]
        for proxy in value or []:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ValueError(f"{proxy!r} is not an address or CIDR range") from None
        return value

    def upstreams(self) -> dict[str, str]:
        return {name: getattr(self, f"{name}_url").rstrip("/") for name in SERVICES}

    @model_validator(mode="after")
    def _identity_provider(self) -> Settings:
        if self.dev_issuer_enabled and not self.environment.allows_development_secrets:
            raise ValueError("GATEWAY_DEV_ISSUER_ENABLED is for development and test only")
        configured = self.dev_issuer_enabled or (self.oidc_issuer and self.oidc_jwks_url)
        if not configured and not self.environment.allows_development_secrets:
            raise ValueError("set GATEWAY_OIDC_ISSUER and GATEWAY_OIDC_JWKS_URL")
        return self

    @property
    def issuer(self) -> str:
        return self.oidc_issuer or (self.dev_issuer_url if self.dev_issuer_enabled else "")


@cache
def get_settings() -> Settings:
    return Settings()
