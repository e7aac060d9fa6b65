"""Hostile text through the whole platform (gateway and real service processes): control
characters in any text field are a 422 naming the field, never a 500, so no anonymous caller
can open a service's circuit breaker for everyone or write half a record."""

from __future__ import annotations

import asyncpg

from shared.db.engine import asyncpg_dsn
from tests.registry.test_households import household_body


async def household_count(infrastructure) -> int:
    connection = await asyncpg.connect(asyncpg_dsn(infrastructure.database_url("registry")))
    try:
        return await connection.fetchval("SELECT count(*) FROM household")
    finally:
        await connection.close()


async def test_nul_bytes_in_public_posts_are_refused_and_the_service_stays_open(
    platform, clean_databases
):
    """Six such posts used to open the grievance breaker: staff then got 503 for 10 s."""
    async with platform.client("anonymous", client_ip="198.51.100.60") as citizen:
        for n in range(8):
            refused = await citizen.post(
                "/grievance/public/grievances",
                json={
                    "category": "payment_problem",
                    "description": f"The payment\u0000 did not arrive ({n}).",
                    "location_code": "120801",
                    "anonymous": True,
                },
            )
            assert refused.status_code in (422, 429), refused.text
            if refused.status_code == 422:
                assert refused.headers["content-type"] == "application/problem+json"
                assert refused.json()["errors"][0]["field"] == "description"
    async with platform.client("cs.phnom-penh-thmei") as staff:
        worklist = await staff.get("/grievance/grievances")
    assert worklist.status_code == 200, worklist.text


async def test_a_nul_byte_in_a_search_or_a_new_household_changes_nothing(
    platform, infrastructure, clean_databases
):
    async with platform.client("cs.phnom-penh-thmei") as commune:
        for _ in range(6):
            search = await commune.get(
                "/registry/members/search", params={"district": "1208", "q": "So\u0000k"}
            )
            assert search.status_code == 422, search.text
            assert search.json()["errors"][0]["field"] == "query.q"
        body = household_body()
        body["members"][1]["given_name_latin"] = "Van\u0000na"
        created = await commune.post("/registry/households", json=body)
        assert created.status_code == 422, created.text
        assert created.json()["errors"][0]["field"] == "members.1.given_name_latin"
        assert await household_count(infrastructure) == 0
        # The service is as well as before: the same officer's ordinary work goes on.
        fine = await commune.get(
            "/registry/members/search", params={"district": "1208", "q": "Sok"}
        )
        assert fine.status_code == 200, fine.text
        by_code = await commune.get("/registry/households/by-code/HH%00000001")
        assert by_code.status_code == 400


async def test_a_number_is_not_a_date_in_a_query(platform, clean_databases):
    """pydantic read `?submitted_to=0.5` as a Unix time and filtered by 1 January 1970: a
    request the schema calls invalid got 200. Dates in queries take ISO text only."""
    async with platform.client("national.officer") as national:
        grievances = await national.get("/grievance/grievances", params={"submitted_to": "0.5"})
        cases = await national.get("/registry/cases", params={"due_before": "1700000000"})
        fine = await national.get(
            "/grievance/grievances", params={"submitted_to": "2026-12-06T10:00:00+07:00"}
        )
    for refused, field in ((grievances, "query.submitted_to"), (cases, "query.due_before")):
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == field
    assert fine.status_code == 200, fine.text
