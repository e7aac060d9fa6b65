"""Settings of the registry service (env prefix `REGISTRY_`)."""

from functools import cache
from typing import ClassVar, Literal

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from services.registry.dci.envelope import CallbackAllowList
from services.registry.dci.signatures import public_key
from shared.principal import Principal
from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REGISTRY_", extra="ignore", populate_by_name=True)
    service_name: ClassVar[str] = "registry"

    # Cases: days until a case is due when staff give no date, and until a reassessment case
    # opened by an upheld grievance is due (REGISTRY_CASE_DUE_DAYS, REGISTRY_REASSESSMENT_DUE_DAYS).
    case_due_days: int = Field(default=30, ge=1, le=365)
    reassessment_due_days: int = Field(default=30, ge=1, le=365)
    # DCI callbacks: per client id, the URL prefixes the registry may POST results and
    # notifications to (`scheme://host[:port|:*]/path`), as JSON in REGISTRY_DCI_CALLBACK_URLS,
    # e.g. {"moh-health-equity": ["https://his.moh.gov.kh/dci/"]}. A client with none cannot
    # use the asynchronous search, transaction status or subscriptions.
    dci_callback_urls: dict[str, list[str]] = Field(default_factory=dict)
    # DCI message signatures (services/registry/dci/signatures.py): per client id, its Ed25519
    # public keys by key id (PEM or base64 of the raw 32 bytes), or "unsigned" for a client
    # allowed to send unsigned messages; as JSON in REGISTRY_DCI_CLIENT_KEYS, e.g.
    # {"moh-health-equity": {"moh-2026-1": "MCowBQYDK2VwAyEA..."}, "pp-social-services":
    # "unsigned"}. A client not named here cannot use the DCI API.
    dci_client_keys: dict[str, dict[str, str] | Literal["unsigned"]] = Field(default_factory=dict)
    # Retention (services/registry/retention): an import validated (or failed) and not
    # committed within REGISTRY_IMPORT_RETENTION_DAYS expires, its stored file and staged rows
    # dropped; DCI callbacks sent (or given up) and the records in stored search answers go
    # after REGISTRY_DCI_RESULT_RETENTION_DAYS. A pass runs every
    # REGISTRY_RETENTION_INTERVAL_SECONDS, in one replica at a time.
    import_retention_days: int = Field(default=14, ge=1, le=3650)
    dci_result_retention_days: int = Field(default=30, ge=1, le=3650)
    retention_interval_seconds: float = Field(default=3600.0, gt=0)

    @field_validator("dci_callback_urls")
    @classmethod
    def _callback_prefixes_parse(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for prefixes in value.values():
            CallbackAllowList(prefixes)  # raises ValueError naming a malformed prefix
        return value

    @field_validator("dci_client_keys")
    @classmethod
    def _client_keys_read(
        cls, value: dict[str, dict[str, str] | str]
    ) -> dict[str, dict[str, str] | str]:
        for client_id, keys in value.items():
            if isinstance(keys, dict):
                for key_id, encoded in keys.items():
                    try:
                        public_key(encoded)
                    except ValueError as exc:
                        raise ValueError(f"{client_id}/{key_id}: {exc}") from exc
        return value

    def dci_keys_for(self, principal: Principal) -> dict[str, str] | str | None:
        """A machine client's registered signing keys, "unsigned", or None (not registered)."""
        return self.dci_client_keys.get(principal.sub.removeprefix("client:"))

    def dci_callbacks_for(self, principal: Principal) -> CallbackAllowList:
        """The callback allow-list of a machine client (its id, with or without `client:`)."""
        client_id = principal.sub.removeprefix("client:")
        return CallbackAllowList(self.dci_callback_urls.get(client_id, ()))


@cache
def get_settings() -> Settings:
    return Settings()
