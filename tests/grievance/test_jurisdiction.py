"""Jurisdiction of every staff endpoint, for a grievance in Sangkat Phnom Penh Thmei (120801):
its own commune, the sibling commune 120802, the parent district 1208, another province (01)
and the national tier. Reads outside the area are 404, changes outside it 403; inside the
area only the handling unit's handlers may change it."""

from __future__ import annotations

import pytest

from tests.grievance.conftest import intake, record
from tests.harness import (
    GRIEVANCE_CP_BANTEAY_MEANCHEY,
    GRIEVANCE_CS_PHNOM_PENH_THMEI,
    GRIEVANCE_CS_TUEK_THLA,
    GRIEVANCE_DMK_SEN_SOK,
    GRIEVANCE_NATIONAL,
)

OWN, SIBLING, PARENT, OTHER, NATIONAL = (
    GRIEVANCE_CS_PHNOM_PENH_THMEI,
    GRIEVANCE_CS_TUEK_THLA,
    GRIEVANCE_DMK_SEN_SOK,
    GRIEVANCE_CP_BANTEAY_MEANCHEY,
    GRIEVANCE_NATIONAL,
)
CALLERS = {"own": OWN, "sibling": SIBLING, "parent": PARENT, "other": OTHER, "national": NATIONAL}
READ = {"own": 200, "sibling": 404, "parent": 200, "other": 404, "national": 200}
CHANGE = {"own": 200, "sibling": 403, "parent": 403, "other": 403, "national": 403}

ACTIONS = [
    ("acknowledge", {}),
    ("start", {}),
    ("resolve", {"decision": "upheld", "resolution_summary": "Added back."}),
    ("reject", {"reason": "Out of scope."}),
    ("close", {}),
    ("escalate", {"reason": "Needs the district."}),
]


@pytest.fixture
async def grievance(service) -> dict:
    async with service.client(OWN) as client:
        created = await record(client)
    return created


@pytest.mark.parametrize("caller", CALLERS)
async def test_reading_one_grievance_and_its_timeline(service, grievance, caller):
    async with service.client(CALLERS[caller]) as client:
        one = await client.get(f"/grievances/{grievance['id']}")
        timeline = await client.get(f"/grievances/{grievance['id']}/timeline")
        listed = await client.get("/grievances")
    assert one.status_code == timeline.status_code == READ[caller]
    assert len(listed.json()["items"]) == (1 if READ[caller] == 200 else 0)


@pytest.mark.parametrize("caller", CALLERS)
async def test_listing_a_subtree_outside_the_area_is_404(service, grievance, caller):
    async with service.client(CALLERS[caller]) as client:
        response = await client.get("/grievances", params={"location": "120801"})
        report = await client.get(
            "/reports/grievances",
            params={"from": "2026-11-01", "to": "2026-11-30", "location": "120801"},
        )
    assert response.status_code == report.status_code == READ[caller]


@pytest.mark.parametrize("caller", CALLERS)
async def test_recording_in_120801(service, caller):
    async with service.client(CALLERS[caller]) as client:
        response = await client.post("/grievances", json=intake())
    assert response.status_code == {"sibling": 403, "other": 403}.get(caller, 201)


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize(("action", "body"), ACTIONS, ids=[a for a, _ in ACTIONS])
async def test_changing_is_for_the_handling_unit_only(service, caller, action, body):
    async with service.client(OWN) as client:
        created = await record(client)
        if action in ("start", "resolve"):
            await client.post(
                f"/grievances/{created['id']}/acknowledge", json={}, headers={"If-Match": '"1"'}
            )
        if action == "close":
            for step, payload in (("acknowledge", {}), ("resolve", ACTIONS[2][1])):
                current = await client.get(f"/grievances/{created['id']}")
                await client.post(
                    f"/grievances/{created['id']}/{step}",
                    json=payload,
                    headers={"If-Match": current.headers["etag"]},
                )
    async with service.client(CALLERS[caller]) as client:
        response = await client.post(
            f"/grievances/{created['id']}/{action}", json=body, headers={"If-Match": "*"}
        )
    assert response.status_code == CHANGE[caller], response.text


@pytest.mark.parametrize("caller", CALLERS)
async def test_adding_to_the_timeline(service, grievance, caller):
    async with service.client(CALLERS[caller]) as client:
        response = await client.post(
            f"/grievances/{grievance['id']}/timeline",
            json={"kind": "public_response", "text": "We visited your village."},
        )
    assert response.status_code == {"own": 201}.get(caller, 403)


@pytest.mark.parametrize("caller", CALLERS)
async def test_worklists_show_the_units_own_queue(service, grievance, caller):
    async with service.client(CALLERS[caller]) as client:
        assigned = await client.get("/worklists/assigned")
        due_soon = await client.get("/worklists/due-soon")
        overdue = await client.get("/worklists/overdue")
    mine = caller == "own"
    assert len(assigned.json()["items"]) == (1 if mine else 0)
    assert due_soon.status_code == overdue.status_code == 200
    assert overdue.json()["items"] == []


@pytest.mark.parametrize("caller", CALLERS)
async def test_reports_count_the_callers_subtree(service, grievance, caller):
    async with service.client(CALLERS[caller]) as client:
        report = await client.get(
            "/reports/grievances", params={"from": "2026-11-01", "to": "2026-11-30"}
        )
    assert report.status_code == 200
    assert report.json()["total"] == (1 if READ[caller] == 200 else 0)


async def test_a_missing_grievance_is_404_for_reads_and_changes(service):
    missing = "6d1c9a4e-8f57-4f5e-9d45-1f0c1e2b3a4c"
    async with service.client(NATIONAL) as client:
        read = await client.get(f"/grievances/{missing}")
        change = await client.post(
            f"/grievances/{missing}/acknowledge", json={}, headers={"If-Match": "*"}
        )
    assert read.status_code == change.status_code == 404
