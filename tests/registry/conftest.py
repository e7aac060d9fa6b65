"""The registry app most registry tests run against, and a client acting as a principal."""

from __future__ import annotations

import pytest

from services.registry.config import Settings
from services.registry.main import create_app
from shared.principal import Principal
from tests.harness import client_for, running


@pytest.fixture
async def registry_app(infrastructure, clean_databases):
    """The registry on the test database and broker; no consumers, no outbox relay."""
    app = create_app(
        Settings(
            database_url=infrastructure.database_url("registry"),
            kafka_bootstrap_servers=infrastructure.bootstrap_servers,
            log_json=False,
            consumers_enabled=False,
            relay_enabled=False,
        )
    )
    async with running(app):
        yield app


def as_(app, principal: Principal | None):
    return client_for(app, principal, audience="registry")
