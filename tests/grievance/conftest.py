"""The grievance service in-process, on the test database, with a clock the tests move."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI

from services.grievance.config import Settings
from services.grievance.main import create_app
from shared.clock import ManualClock
from shared.principal import Principal
from tests.harness import client_for, running

START = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)


@dataclass
class GrievanceService:
    app: FastAPI
    clock: ManualClock

    def client(self, principal: Principal | None) -> httpx.AsyncClient:
        if principal is None:
            principal = Principal.anonymous()
        return client_for(self.app, principal, audience="grievance")


@pytest.fixture(scope="session")
async def grievance_service(infrastructure) -> AsyncIterator[GrievanceService]:
    settings = Settings(
        database_url=infrastructure.database_url("grievance"),
        kafka_bootstrap_servers=infrastructure.bootstrap_servers,
        log_json=False,
        consumers_enabled=False,
        sla_scheduler_enabled=False,
        outbox_poll_interval_seconds=0.2,
    )
    clock = ManualClock(START)
    app = create_app(settings, clock=clock)
    async with running(app):
        yield GrievanceService(app, clock)


@pytest.fixture
async def service(grievance_service, clean_databases) -> GrievanceService:
    grievance_service.clock.set(START)
    return grievance_service


def intake(**overrides) -> dict:
    body = {
        "channel": "commune_office",
        "category": "exclusion_error",
        "description": "Our household was left out of the cash transfer for pregnant women.",
        "location_code": "12080102",
        "anonymous": False,
        "complainant": {
            "name": "Sok Dara",
            "phone": "+855 12 345 678",
            "sex": "female",
            "age_group": "18_35",
            "vulnerabilities": ["idpoor"],
        },
    }
    body.update(overrides)
    return body


def public_submission(**overrides) -> dict:
    body = {
        "category": "payment_problem",
        "description": "The payment for October did not arrive.",
        "location_code": "120801",
        "anonymous": True,
    }
    body.update(overrides)
    return body


async def record(client: httpx.AsyncClient, **overrides) -> dict:
    response = await client.post("/grievances", json=intake(**overrides))
    assert response.status_code == 201, response.text
    return response.json()


async def act(
    client: httpx.AsyncClient, grievance: dict, action: str, body: dict | None = None
) -> httpx.Response:
    current = await client.get(f"/grievances/{grievance['id']}")
    etag = current.headers.get("etag", '"0"')
    return await client.post(
        f"/grievances/{grievance['id']}/{action}", json=body or {}, headers={"If-Match": etag}
    )
