"""The registry app most registry tests run against, its settings, and a client acting as a
principal."""

from __future__ import annotations

import pytest

from services.registry.config import Settings
from services.registry.main import create_app
from shared.clock import ManualClock
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
            # The DCI tests' clients (tests/registry/dci_support.py), registered as unsigned;
            # the signature tests register keys of their own.
            "dci_client_keys": {
                "service-account-moh-health-equity": "unsigned",
                "service-account-pp-social": "unsigned",
            },
            **overrides,
        }
    )


@pytest.fixture
async def app(request, infrastructure, clean_databases):
    """The running registry app. A module or test that needs other settings says so with
    `pytest.mark.registry_settings(name=value, ...)`; one whose data describe a given day runs
    the registry on a clock standing there with `pytest.mark.registry_clock(aware_datetime)`
    (the app's clock is then `app.state.clock`, a ManualClock the test may move)."""
    marker = request.node.get_closest_marker("registry_settings")
    clock_marker = request.node.get_closest_marker("registry_clock")
    app = create_app(
        registry_settings(infrastructure, **(marker.kwargs if marker else {})),
        clock=ManualClock(clock_marker.args[0]) if clock_marker else None,
    )
    async with running(app):
        yield app


def as_(app, principal: Principal | None):
    return client_for(app, principal, audience="registry")
