"""The registry app most registry tests run against, its settings, and a client acting as a
principal."""

from __future__ import annotations

import pytest

from services.registry.config import Settings
from services.registry.main import create_app
from shared.principal import Principal
from tests.harness import client_for, running


def registry_settings(infrastructure, **overrides) -> Settings:
    """The registry on the test database and broker; no consumers and no outbox relay unless
    a test asks for them."""
    return Settings(
        **{
            "database_url": infrastructure.database_url("registry"),
            "kafka_bootstrap_servers": infrastructure.bootstrap_servers,
            "log_json": False,
            "consumers_enabled": False,
            "relay_enabled": False,
            **overrides,
        }
    )


@pytest.fixture
async def app(request, infrastructure, clean_databases):
    """The running registry app. A module or test that needs other settings says so with
    `pytest.mark.registry_settings(name=value, ...)`."""
    marker = request.node.get_closest_marker("registry_settings")
    app = create_app(registry_settings(infrastructure, **(marker.kwargs if marker else {})))
    async with running(app):
        yield app


def as_(app, principal: Principal | None):
    return client_for(app, principal, audience="registry")
