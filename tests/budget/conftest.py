"""The budget service in-process, on the test database, with a clock the tests move, and the
people the tests act as (two of each at the national tier, Phnom Penh and Khan Sen Sok, so
that a proposer and a different approver exist)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI

from services.budget.config import Settings
from services.budget.main import create_app
from shared.clock import ManualClock
from shared.principal import Principal
from shared.tiers import Tier
from tests.harness import client_for, running

START = datetime(2027, 1, 15, 2, 0, tzinfo=UTC)
YEAR = 2027
PLANNER, APPROVER = "budget.planner", "budget.approver"


def person(sub: str, tier: Tier, code: str, *roles: str) -> Principal:
    return Principal(sub=sub, tier=tier, admin_code=code, roles=frozenset(roles))


NATIONAL_PLANNER = person("nat-planner", Tier.NATIONAL, "", PLANNER, APPROVER)
NATIONAL_APPROVER = person("nat-approver", Tier.NATIONAL, "", APPROVER)
PP_PLANNER = person("pp-planner", Tier.CP, "12", PLANNER, APPROVER)
PP_APPROVER = person("pp-approver", Tier.CP, "12", APPROVER)
SEN_SOK_PLANNER = person("sensok-planner", Tier.DMK, "1208", PLANNER, APPROVER)
SEN_SOK_APPROVER = person("sensok-approver", Tier.DMK, "1208", APPROVER)
PHNOM_PENH_THMEI = person("cs-120801", Tier.CS, "120801", PLANNER)
TUEK_THLA = person("cs-120802", Tier.CS, "120802", PLANNER)
BANTEAY_MEANCHEY = person("cp-01", Tier.CP, "01", PLANNER, APPROVER)


@dataclass
class BudgetService:
    app: FastAPI
    clock: ManualClock

    def client(self, principal: Principal | None) -> httpx.AsyncClient:
        return client_for(self.app, principal or Principal.anonymous(), audience="budget")


@pytest.fixture(scope="session")
async def budget_service(infrastructure) -> AsyncIterator[BudgetService]:
    settings = Settings(
        database_url=infrastructure.database_url("budget"),
        kafka_bootstrap_servers=infrastructure.bootstrap_servers,
        log_json=False,
        consumers_enabled=False,
        outbox_poll_interval_seconds=0.2,
    )
    clock = ManualClock(START)
    app = create_app(settings, clock=clock)
    async with running(app):
        yield BudgetService(app, clock)


@pytest.fixture
async def service(budget_service, clean_databases) -> BudgetService:
    budget_service.clock.set(START)
    return budget_service


async def ok(response: httpx.Response, *statuses: int) -> dict:
    assert response.status_code in (statuses or (200, 201)), response.text
    return response.json() if response.content else {}


def census_csv(area: str, level_length: int, value=lambda code: 1000) -> bytes:
    """A population dataset for every unit of that code length under `area`."""
    from shared.gazetteer import Level, get_gazetteer

    level = {2: Level.PROVINCE, 4: Level.DISTRICT, 6: Level.COMMUNE, 8: Level.VILLAGE}[level_length]
    rows = ["admin_code,value"] + [
        f"{u.code},{value(u.code)}" for u in get_gazetteer().descendants(area, level)
    ]
    return ("\n".join(rows) + "\n").encode()


async def upload_population(client: httpx.AsyncClient, *, area: str = "", value=None) -> dict:
    response = await client.post(
        "/datasets",
        data={"code": "population", "name": "Census population", "source": "NIS census 2019",
              "reference_date": "2019-03-03", "level": "commune", "area": area},
        files={"file": ("population.csv", census_csv(area, 6, value or (lambda c: 1000)))},
    )  # fmt: skip
    return await ok(response, 201)


async def open_year_with_envelope(
    client: httpx.AsyncClient, amount: int = 1_000_000_000, line: str = "social_assistance"
) -> None:
    await ok(await client.post("/fiscal-years", json={"year": YEAR}), 201)
    await ok(
        await client.put(f"/fiscal-years/{YEAR}/envelopes/{line}", json={"amount_riel": amount})
    )


async def transition(client: httpx.AsyncClient, run: dict, action: str) -> httpx.Response:
    current = await client.get(f"/allocation-runs/{run['id']}")
    return await client.post(
        f"/allocation-runs/{run['id']}/{action}", headers={"If-Match": current.headers["etag"]}
    )


async def publish(service: BudgetService, proposer, approver, body: dict) -> dict:
    """Draft, propose, approve (by another person) and publish a run."""
    async with service.client(proposer) as client:
        run = await ok(await client.post("/allocation-runs", json=body), 201)
        await ok(await transition(client, run, "propose"))
    async with service.client(approver) as client:
        await ok(await transition(client, run, "approve"))
        await ok(await transition(client, run, "publish"))
        return await ok(await client.get(f"/allocation-runs/{run['id']}"))
