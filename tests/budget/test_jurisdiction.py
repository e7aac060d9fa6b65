"""Jurisdiction of every staff read of the budget, for records about Sangkat Phnom Penh Thmei
(120801) under Khan Sen Sok's published run: its own commune, the sibling 120802, the parent
district 1208, another province (01) and the national tier. Reads outside the area are 404
(one record) or empty (lists); a change outside the area is 404 when the caller cannot see the
record and 403 when it can but is not the unit that acts."""

from __future__ import annotations

import pytest

from tests.budget.conftest import (
    BANTEAY_MEANCHEY,
    NATIONAL_PLANNER,
    PHNOM_PENH_THMEI,
    SEN_SOK_PLANNER,
    TUEK_THLA,
    YEAR,
    ok,
)
from tests.budget.test_execution import LINE, cascade, record, release

CALLERS = {
    "own": PHNOM_PENH_THMEI,
    "sibling": TUEK_THLA,
    "parent": SEN_SOK_PLANNER,
    "other": BANTEAY_MEANCHEY,
    "national": NATIONAL_PLANNER,
}
ONE = {"own": 200, "sibling": 404, "parent": 200, "other": 404, "national": 200}
LISTED = {"own": 1, "sibling": 0, "parent": 1, "other": 0, "national": 1}


@pytest.fixture
async def world(service) -> dict:
    runs = await cascade(service)
    day = service.clock.today()
    async with service.client(SEN_SOK_PLANNER) as district:
        planned = await release(district, runs["1208"], "120801", 1_000, day)
        await record(district, planned, day)
        second = await release(district, runs["1208"], "120801", 1_000, day)
    async with service.client(PHNOM_PENH_THMEI) as commune:
        await ok(
            await commune.post(
                "/expenditures",
                json={"fiscal_year": YEAR, "line_code": LINE, "amount_riel": 300,
                      "spent_on": str(day), "description": "Outreach"},
            ),
            201,
        )  # fmt: skip
        request = await ok(
            await commune.post(
                "/support-requests",
                json={"addressed_tier": "dmk", "request_type": "equipment",
                      "description": "A laptop for the CS focal point", "amount_riel": 3_000_000},
            ),
            201,
        )  # fmt: skip
    return {"runs": runs, "release": second, "request": request}


@pytest.mark.parametrize("caller", CALLERS)
async def test_reading_the_records_of_120801(service, world, caller):
    run_id = world["runs"]["1208"]["id"]
    async with service.client(CALLERS[caller]) as client:
        one = {
            "run": (await client.get(f"/allocation-runs/{run_id}")).status_code,
            "recomputation": (
                await client.get(f"/allocation-runs/{run_id}/recomputation")
            ).status_code,
            "release": (await client.get(f"/releases/{world['release']['id']}")).status_code,
            "request": (
                await client.get(f"/support-requests/{world['request']['id']}")
            ).status_code,
            "report": (
                await client.get("/reports/budget", params={"fiscal_year": YEAR, "area": "120801"})
            ).status_code,
            "support report": (
                await client.get(
                    "/reports/support-requests", params={"fiscal_year": YEAR, "area": "120801"}
                )
            ).status_code,
        }
        releases = (await ok(await client.get("/releases")))["items"]
        spending = (await ok(await client.get("/expenditures")))["items"]
        requests = (await ok(await client.get("/support-requests")))["items"]
        runs = (await ok(await client.get("/allocation-runs")))["items"]
    # The commune sees the money that reached it, not the district's run that divided it.
    run_read = {**ONE, "own": 404}
    expected = {"run": run_read[caller], "recomputation": run_read[caller],
                "release": ONE[caller], "request": ONE[caller], "report": ONE[caller],
                "support report": ONE[caller]}  # fmt: skip
    assert one == expected
    assert len({r["admin_code"] for r in releases}) == LISTED[caller]
    assert len(spending) == LISTED[caller]
    assert len(requests) == LISTED[caller]
    assert len(runs) == {"own": 0, "sibling": 0, "parent": 1, "other": 0, "national": 3}[caller]


@pytest.mark.parametrize("caller", CALLERS)
async def test_changing_the_records_of_120801(service, world, caller):
    day = service.clock.today()
    async with service.client(CALLERS[caller]) as client:
        recorded = await client.post(
            f"/releases/{world['release']['id']}/record",
            json={"released_on": str(day)},
            headers={"If-Match": "*"},
        )
        reviewed = await client.post(
            f"/support-requests/{world['request']['id']}/review", headers={"If-Match": "*"}
        )
        indicators = await client.get("/indicators", params={"fiscal_year": YEAR, "area": "1208"})
    assert recorded.status_code == {"own": 403, "sibling": 404, "parent": 200, "other": 404,
                                    "national": 403}[caller]  # fmt: skip
    assert reviewed.status_code == {"own": 403, "sibling": 404, "parent": 200, "other": 404,
                                    "national": 403}[caller]  # fmt: skip
    assert indicators.status_code == {"own": 404, "sibling": 404, "parent": 200, "other": 404,
                                      "national": 200}[caller]  # fmt: skip
