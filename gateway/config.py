"""Settings of the gateway (env prefix `GATEWAY_`)."""

from functools import cache
from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from shared.settings import DEV_INTERNAL_TOKEN_PRIVATE_KEY, ProcessSettings

SERVICES = ("registry", "grievance", "isaf", "budget")


class Settings(ProcessSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore", populate_by_name=True)
    development_secrets: ClassVar[dict[str, str]] = {
        "internal_token_private_key": DEV_INTERNAL_TOKEN_PRIVATE_KEY,
    }

    registry_url: str = "http://127.0.0.1:8001"
    grievance_url: str = "http://127.0.0.1:8002"
    isaf_url: str = "http://127.0.0.1:8003"
    budget_url: str = "http://127.0.0.1:8004"
    # PEM of the Ed25519 key that signs the internal principal token sent to services.
    internal_token_private_key: str = DEV_INTERNAL_TOKEN_PRIVATE_KEY

    def upstreams(self) -> dict[str, str]:
        return {name: getattr(self, f"{name}_url").rstrip("/") for name in SERVICES}


@cache
def get_settings() -> Settings:
    return Settings()
