"""The issue's own fault, on the real services: the broker killed and restarted while a commune
registers households. The registry and the grievance service run as processes (their relays
and consumers as deployed, with the production healing intervals) on the fault tests' broker
and PostgreSQL; at the end the grievance service knows every household the registry holds,
each registry event applied once."""

from __future__ import annotations

import asyncio

import asyncpg
import httpx

from devstack.postgres import free_port
from shared.db.engine import asyncpg_dsn
from tests.conftest import truncate_all
from tests.harness import CS_PHNOM_PENH_THMEI, internal_headers, wait_for
from tests.registry.test_journey import family_with_a_baby

HANDLED = [  # what the grievance service's household consumer applies
    f"kh.gov.sp.registry.household.{name}.v1"
    for name in ("registered", "verified", "updated", "moved", "dissolved")
]


async def register(registry: str, count: int) -> None:
    headers = internal_headers(CS_PHNOM_PENH_THMEI, "registry")
    body = family_with_a_baby()
    for person in body["members"]:
        person["national_id"] = None
    async with httpx.AsyncClient(base_url=registry, headers=headers, timeout=30) as client:
        for _ in range(count):
            created = await client.post("/households", json=body)
            assert created.status_code == 201, created.text


async def fetch(url: str, query: str, *args) -> list:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return await conn.fetch(query, *args)
    finally:
        await conn.close()


async def test_broker_restart_loses_no_household_event_between_registry_and_grievance(
    stack, service_databases
):
    for url in service_databases.values():
        await truncate_all(asyncpg_dsn(url))
    registry_port, grievance_port = free_port(), free_port()
    stack.start_process(
        "services.registry.main:app", "REGISTRY", service_databases["registry"], registry_port
    )
    stack.start_process(
        "services.grievance.main:app",
        "GRIEVANCE",
        service_databases["grievance"],
        grievance_port,
        sla_scheduler_enabled="false",
    )
    registry = f"http://127.0.0.1:{registry_port}"

    async def grievance_knows(count: int) -> bool:
        rows = await fetch(service_databases["grievance"], "SELECT 1 FROM household_location")
        return len(rows) >= count

    await register(registry, 8)
    await wait_for(lambda: grievance_knows(8), timeout=60, interval=0.5)
    stack.broker.kill()  # memory storage: topics, messages and consumer groups are gone
    await register(registry, 8)  # the writes commit; their events wait in the outbox
    await asyncio.sleep(3)
    stack.broker.start()
    await register(registry, 8)

    await wait_for(lambda: grievance_knows(24), timeout=120, interval=0.5)
    await asyncio.sleep(2)  # a duplicate arriving late would show now
    held = await fetch(service_databases["registry"], "SELECT id, village_code FROM household")
    known = await fetch(
        service_databases["grievance"], "SELECT household_id, village_code FROM household_location"
    )
    assert sorted((r["id"], r["village_code"]) for r in held) == sorted(
        (r["household_id"], r["village_code"]) for r in known
    )
    events = await fetch(
        service_databases["registry"],
        "SELECT id::text FROM outbox WHERE type = ANY($1::text[])",
        HANDLED,
    )
    applied = await fetch(
        service_databases["grievance"],
        "SELECT id FROM inbox WHERE consumer = 'grievance.households'",
    )
    assert sorted(r["id"] for r in applied) == sorted(r["id"] for r in events), (
        "every household event applied exactly once"
    )
