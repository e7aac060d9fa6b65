"""Each of the four services starts on its own migrated database with the platform wiring."""

from __future__ import annotations

import importlib

import pytest
from sqlalchemy import inspect

from shared.platform import SERVICES
from tests.harness import NATIONAL, client_for, running


def service_app(name: str, infrastructure, **overrides):
    module = importlib.import_module(f"services.{name}.main")
    config = importlib.import_module(f"services.{name}.config")
    settings = config.Settings(
        database_url=infrastructure.database_url(name),
        kafka_bootstrap_servers=infrastructure.bootstrap_servers,
        log_json=False,
        **overrides,
    )
    return module.create_app(settings)


@pytest.mark.parametrize("name", SERVICES)
async def test_service_is_live_and_ready_with_database_and_broker(name, infrastructure):
    app = service_app(name, infrastructure, consumers_enabled=False)
    async with running(app), client_for(app, None, audience=name) as client:
        health = await client.get("/health")
        ready = await client.get("/ready")
        metrics = await client.get("/metrics")
        async with app.state.database.engine.connect() as conn:
            tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert health.json() == {"status": "ok", "service": name}
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "broker": "ok", "consumers": "ok"}
    assert "sp_http_requests_total" in metrics.text
    assert {"outbox", "inbox", "idempotency_key", "alembic_version"} <= tables


@pytest.mark.parametrize("name", SERVICES)
async def test_service_is_not_ready_without_its_broker(name, infrastructure):
    from devstack.postgres import free_port

    app = service_app(name, infrastructure, consumers_enabled=False, relay_enabled=False)
    app.state.settings.kafka_bootstrap_servers = f"127.0.0.1:{free_port()}"
    async with running(app), client_for(app, None, audience=name) as client:
        app.state.broker_probe.bootstrap_servers = app.state.settings.kafka_bootstrap_servers
        ready = await client.get("/ready")
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"] == "ok"
    assert ready.json()["checks"]["broker"].startswith("unavailable")


@pytest.mark.parametrize("name", SERVICES)
async def test_service_documents_stable_operation_ids(name, infrastructure):
    app = service_app(name, infrastructure, consumers_enabled=False, relay_enabled=False)
    async with client_for(app, NATIONAL, audience=name) as client:
        document = (await client.get("/openapi.json")).json()
    operation_ids = [
        op["operationId"] for path in document["paths"].values() for op in path.values()
    ]
    assert all(op.startswith(f"{name}_") for op in operation_ids)
    assert len(operation_ids) == len(set(operation_ids))
