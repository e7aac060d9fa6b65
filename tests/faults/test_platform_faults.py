"""Faults on the real services: the broker killed and restarted while a commune registers
households, and the registry killed in the middle of an import. The registry and the grievance
service run as processes (their relays and consumers as deployed, with the production healing
intervals) on the fault tests' broker and PostgreSQL; at the end the grievance service knows
every household the registry holds, each registry event applied once."""

from __future__ import annotations

import asyncio

import asyncpg
import httpx

from devstack.postgres import free_port
from shared.db.engine import asyncpg_dsn
from tests.conftest import truncate_all
from tests.harness import CS_PHNOM_PENH_THMEI, internal_headers, wait_for
from tests.registry.test_imports import small_file
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


async def start_services(stack, databases: dict[str, str]) -> tuple[str, int]:
    """Clean databases, the grievance service and the registry as processes: the registry's
    URL and port."""
    for url in databases.values():
        await truncate_all(asyncpg_dsn(url))
    registry_port = free_port()
    stack.start_process(
        "services.grievance.main:app",
        "GRIEVANCE",
        databases["grievance"],
        free_port(),
        sla_scheduler_enabled="false",
    )
    stack.start_process(
        "services.registry.main:app", "REGISTRY", databases["registry"], registry_port
    )
    return f"http://127.0.0.1:{registry_port}", registry_port


async def grievance_knows(databases: dict[str, str], count: int) -> bool:
    rows = await fetch(databases["grievance"], "SELECT 1 FROM household_location")
    return len(rows) >= count


async def assert_every_household_event_applied_once(databases: dict[str, str]) -> None:
    held = await fetch(databases["registry"], "SELECT id, village_code FROM household")
    known = await fetch(
        databases["grievance"], "SELECT household_id, village_code FROM household_location"
    )
    assert sorted((r["id"], r["village_code"]) for r in held) == sorted(
        (r["household_id"], r["village_code"]) for r in known
    )
    events = await fetch(
        databases["registry"],
        "SELECT id::text FROM outbox WHERE type = ANY($1::text[])",
        HANDLED,
    )
    applied = await fetch(
        databases["grievance"], "SELECT id FROM inbox WHERE consumer = 'grievance.households'"
    )
    assert sorted(r["id"] for r in applied) == sorted(r["id"] for r in events), (
        "every household event applied exactly once"
    )


async def test_broker_restart_loses_no_household_event_between_registry_and_grievance(
    stack, service_databases
):
    registry, _ = await start_services(stack, service_databases)

    async def grievance_has(count: int) -> bool:
        return await grievance_knows(service_databases, count)

    await register(registry, 8)
    await wait_for(lambda: grievance_has(8), timeout=60, interval=0.5)
    stack.broker.kill()  # memory storage: topics, messages and consumer groups are gone
    await register(registry, 8)  # the writes commit; their events wait in the outbox
    await asyncio.sleep(3)
    stack.broker.start()
    await register(registry, 8)

    await wait_for(lambda: grievance_has(24), timeout=120, interval=0.5)
    await asyncio.sleep(2)  # a duplicate arriving late would show now
    await assert_every_household_event_applied_once(service_databases)


async def test_a_registry_killed_mid_import_resumes_it_and_announces_each_household_once(
    stack, service_databases
):
    registry, port = await start_services(stack, service_databases)
    headers = internal_headers(CS_PHNOM_PENH_THMEI, "registry")

    async def import_row(import_id: str):
        [row] = await fetch(
            service_databases["registry"],
            "SELECT status, households_valid FROM household_import WHERE id = $1::uuid",
            import_id,
        )
        return row

    async def import_status(import_id: str) -> str:
        return (await import_row(import_id))["status"]

    async with httpx.AsyncClient(base_url=registry, headers=headers, timeout=30) as client:
        uploaded = await client.post(
            "/imports", files={"file": ("households.csv", small_file(600))}
        )
        assert uploaded.status_code == 202, uploaded.text
        import_id = uploaded.json()["id"]

        async def validated():
            return await import_status(import_id) == "validated"

        await wait_for(validated, timeout=60, interval=0.2)
        households = (await import_row(import_id))["households_valid"]
        assert households > 100
        requested = await client.post(f"/imports/{import_id}/commit")
        assert requested.status_code == 202, requested.text
    # Killed while the commit runs (SIGKILL: no shutdown, the transaction simply ends).
    registry_process = stack.processes[-1]
    registry_process.kill()
    registry_process.wait()
    assert await import_status(import_id) == "committing"
    held = await fetch(service_databases["registry"], "SELECT 1 FROM household")
    assert len(held) < households, "killed while the commit had work left"

    # Started again, the registry resumes the commit; its events reach the grievance service.
    stack.start_process(
        "services.registry.main:app", "REGISTRY", service_databases["registry"], port
    )

    async def committed():
        return await import_status(import_id) == "committed"

    await wait_for(committed, timeout=60, interval=0.5)

    async def grievance_has_all() -> bool:
        return await grievance_knows(service_databases, households)

    await wait_for(grievance_has_all, timeout=120, interval=0.5)
    await asyncio.sleep(2)
    refs = await fetch(service_databases["registry"], "SELECT DISTINCT source_ref FROM household")
    assert len(refs) == households, "each household of the file created once"
    await assert_every_household_event_applied_once(service_databases)
