"""Settings base for every process (pydantic-settings).

Each process has one `Settings` class with its own env prefix (`REGISTRY_`, `GATEWAY_`, ...)
and a module-level accessor. A few values are platform-wide and read without a prefix
(`KAFKA_BOOTSTRAP_SERVERS`, `SP_ENVIRONMENT`). Development secrets shipped in the repository
are refused outside development and test, so a forgotten variable cannot reach production.
"""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from typing import ClassVar

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.kafka_security import KafkaSecurity, Mechanism, Protocol

_DEVKEYS = Path(__file__).parent / "devkeys"
DEV_INTERNAL_TOKEN_PRIVATE_KEY = (_DEVKEYS / "internal-token-dev.key.pem").read_text()
DEV_INTERNAL_TOKEN_PUBLIC_KEY = (_DEVKEYS / "internal-token-dev.pub.pem").read_text()


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    STAGING = "staging"
    PRODUCTION = "production"

    @property
    def allows_development_secrets(self) -> bool:
        return self in (Environment.DEVELOPMENT, Environment.TEST)


def _default_environment() -> Environment:
    return Environment(os.environ.get("SP_ENVIRONMENT", Environment.DEVELOPMENT))


class ProcessSettings(BaseSettings):
    """What every process (service or gateway) is configured with."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    # Names of fields whose default is a development secret; subclasses extend it.
    development_secrets: ClassVar[dict[str, str]] = {}

    environment: Environment = Field(default_factory=_default_environment)
    log_level: str = "INFO"
    # JSON lines for machines; `false` gives plain text for a developer's terminal.
    log_json: bool = True

    @model_validator(mode="after")
    def _refuse_development_secrets(self) -> ProcessSettings:
        if self.environment.allows_development_secrets:
            return self
        for name, dev_value in self.development_secrets.items():
            if getattr(self, name) == dev_value:
                prefix = self.model_config.get("env_prefix", "")
                raise ValueError(
                    f"{prefix}{name.upper()} is the development value shipped in the repository; "
                    f"set a real secret for environment '{self.environment}'"
                )
        return self


class ServiceSettings(ProcessSettings):
    """Settings shared by the four domain services; each subclass sets its env prefix."""

    service_name: ClassVar[str]
    development_secrets: ClassVar[dict[str, str]] = {
        "internal_token_public_key": DEV_INTERNAL_TOKEN_PUBLIC_KEY,
    }

    database_url: str = ""
    database_pool_size: int = 10
    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:19092",
        validation_alias=AliasChoices("kafka_bootstrap_servers", "KAFKA_BOOTSTRAP_SERVERS"),
    )
    # Apache Kafka supports the idempotent producer (no reordering on retries); the local
    # Tansu broker does not, so it is off unless the deployment turns it on.
    kafka_enable_idempotence: bool = Field(
        default=False,
        validation_alias=AliasChoices("kafka_enable_idempotence", "KAFKA_ENABLE_IDEMPOTENCE"),
    )
    # Partitions for topics the service creates itself when they are missing.
    kafka_topic_partitions: int = Field(
        default=3,
        validation_alias=AliasChoices("kafka_topic_partitions", "KAFKA_TOPIC_PARTITIONS"),
    )
    kafka_topic_replication_factor: int = Field(
        default=1,
        validation_alias=AliasChoices(
            "kafka_topic_replication_factor", "KAFKA_TOPIC_REPLICATION_FACTOR"
        ),
    )
    # How the Kafka clients log in (shared/kafka_security.py): SASL_SSL with a SCRAM user per
    # service in production; PLAINTEXT only in development and test (the local broker).
    kafka_security_protocol: Protocol = Field(
        default="PLAINTEXT",
        validation_alias=AliasChoices("kafka_security_protocol", "KAFKA_SECURITY_PROTOCOL"),
    )
    kafka_sasl_mechanism: Mechanism = Field(
        default="SCRAM-SHA-512",
        validation_alias=AliasChoices("kafka_sasl_mechanism", "KAFKA_SASL_MECHANISM"),
    )
    kafka_sasl_username: str = Field(
        default="", validation_alias=AliasChoices("kafka_sasl_username", "KAFKA_SASL_USERNAME")
    )
    kafka_sasl_password: SecretStr = Field(
        default=SecretStr(""),
        validation_alias=AliasChoices("kafka_sasl_password", "KAFKA_SASL_PASSWORD"),
    )
    kafka_ssl_cafile: str = Field(
        default="", validation_alias=AliasChoices("kafka_ssl_cafile", "KAFKA_SSL_CAFILE")
    )
    # PEM of the gateway's Ed25519 public key, which signs the internal principal token.
    internal_token_public_key: str = DEV_INTERNAL_TOKEN_PUBLIC_KEY
    relay_enabled: bool = True
    outbox_poll_interval_seconds: float = 1.0
    outbox_retention_hours: float = 72.0
    consumers_enabled: bool = True
    # /ready is 503 "degraded" when a consumer has made no progress for this long while its
    # topic has messages for it (sp_consumer_seconds_since_progress shows the same).
    consumer_stall_seconds: float = 45.0

    def kafka_security(self) -> KafkaSecurity:
        return KafkaSecurity(
            protocol=self.kafka_security_protocol,
            mechanism=self.kafka_sasl_mechanism,
            username=self.kafka_sasl_username,
            password=self.kafka_sasl_password,
            cafile=self.kafka_ssl_cafile,
        )

    @model_validator(mode="after")
    def _require_authenticated_broker(self) -> ServiceSettings:
        """Outside development and test, the broker must be reached with SASL_SSL: anyone who
        can reach an open broker can publish events every service would act on."""
        security = self.kafka_security()  # also checks that the settings fit together
        if not self.environment.allows_development_secrets and not security.authenticated:
            raise ValueError(
                f"KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol} in environment "
                f"'{self.environment}': set SASL_SSL with this service's SCRAM user "
                "(KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD, KAFKA_SSL_CAFILE)"
            )
        return self

    @model_validator(mode="after")
    def _default_database(self) -> ServiceSettings:
        if not self.database_url:
            self.database_url = f"postgresql+asyncpg://postgres@127.0.0.1:55432/{self.service_name}"
        return self
