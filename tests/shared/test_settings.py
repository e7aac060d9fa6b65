"""Settings: env prefixes, platform-wide variables, and no development secret in production."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from gateway.config import Settings as GatewaySettings
from services.registry.config import Settings as RegistrySettings
from shared.settings import DEV_INTERNAL_TOKEN_PUBLIC_KEY

REAL_KEY = "-----BEGIN PUBLIC KEY-----\nnot-the-dev-key\n-----END PUBLIC KEY-----\n"


def test_each_process_reads_its_own_prefix_and_the_platform_wide_variables(monkeypatch):
    monkeypatch.setenv("REGISTRY_DATABASE_URL", "postgresql+asyncpg://u@db:5432/registry")
    monkeypatch.setenv("GRIEVANCE_DATABASE_URL", "postgresql+asyncpg://u@db:5432/grievance")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka-1:9092,kafka-2:9092")
    settings = RegistrySettings()
    assert settings.database_url == "postgresql+asyncpg://u@db:5432/registry"
    assert settings.kafka_bootstrap_servers == "kafka-1:9092,kafka-2:9092"


def test_the_database_defaults_to_the_local_stack(monkeypatch):
    monkeypatch.delenv("REGISTRY_DATABASE_URL", raising=False)
    assert RegistrySettings().database_url.endswith("127.0.0.1:55432/registry")


@pytest.mark.parametrize("environment", ["production", "staging"])
def test_development_secrets_are_refused_outside_development(monkeypatch, environment):
    monkeypatch.setenv("SP_ENVIRONMENT", environment)
    with pytest.raises(ValidationError, match="REGISTRY_INTERNAL_TOKEN_PUBLIC_KEY"):
        RegistrySettings()
    with pytest.raises(ValidationError, match="GATEWAY_INTERNAL_TOKEN_PRIVATE_KEY"):
        GatewaySettings()
    monkeypatch.setenv("REGISTRY_INTERNAL_TOKEN_PUBLIC_KEY", REAL_KEY)
    # The broker login is required there too (tests/shared/test_kafka_security.py).
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("KAFKA_SASL_USERNAME", "sp-registry")
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", "a-real-password")
    assert RegistrySettings().environment == environment


@pytest.mark.parametrize("environment", ["development", "test"])
def test_development_secrets_are_fine_in_development(monkeypatch, environment):
    monkeypatch.setenv("SP_ENVIRONMENT", environment)
    assert RegistrySettings().internal_token_public_key == DEV_INTERNAL_TOKEN_PUBLIC_KEY


def test_the_process_prefix_overrides_the_platform_environment(monkeypatch):
    monkeypatch.setenv("SP_ENVIRONMENT", "production")
    monkeypatch.setenv("REGISTRY_ENVIRONMENT", "development")
    assert RegistrySettings().environment == "development"
