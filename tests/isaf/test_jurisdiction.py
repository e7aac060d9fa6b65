"""Every staff endpoint, for the right commune, a sibling commune, the parent district, an
unrelated province and the national level: reads of a record outside one's area answer 404
and lists leave it out; changes outside it answer 403 and change nothing."""

from __future__ import annotations

import uuid

import pytest

from tests.isaf.conftest import (
    CP_BANTEAY_MEANCHEY,
    CP_PHNOM_PENH,
    CS_PHNOM_PENH_THMEI,
    CS_TUEK_THLA,
    DMK_SEN_SOK,
    NATIONAL,
    YEAR,
    activity,
    caf,
    cycle,
    facility,
    sitting,
)

INSIDE = {"own": CS_PHNOM_PENH_THMEI, "district": DMK_SEN_SOK, "capital": CP_PHNOM_PENH,
          "national": NATIONAL}  # fmt: skip
OUTSIDE = {"sibling": CS_TUEK_THLA, "other province": CP_BANTEAY_MEANCHEY}


@pytest.fixture
async def world(service) -> dict:
    async with service.client(CS_PHNOM_PENH_THMEI) as client:
        c = await cycle(client)
        f = await facility(client)
        helper = await caf(client)
        forum = await activity(client, c["id"], "public_forum")
        meeting = await activity(client, c["id"], "interface_meeting")
        scorecard_id = str(uuid.uuid4())
        card = (await client.put(f"/scorecards/{scorecard_id}/sitting",
                                 json=sitting(c["id"], f["id"]))).json()  # fmt: skip
        jaap = (await client.post("/jaaps", json={
            "cycle_id": c["id"], "adopted_on": f"{YEAR}-06-01",
            "interface_meeting_id": meeting["id"],
            "actions": [{"description": "Fees board", "responsible_party": "HC chief",
                         "responsible_tier": "provider", "deadline": f"{YEAR}-09-01",
                         "budget_need_riel": 500_000}]})).json()  # fmt: skip
        training = (await client.post("/trainings", json={
            "location_code": "120801", "audience": "caf", "topics": ["I4C"],
            "starts_on": f"{YEAR}-02-01", "ends_on": f"{YEAR}-02-01", "venue": "Hall",
            "attendees_total": 5, "attendees_female": 3, "attendees_male": 2,
            "caf_ids": [helper["id"]]})).json()  # fmt: skip
        item = (await client.post("/forum-items", json={
            "activity_id": forum["id"], "kind": "issue",
            "text": "The school gate is broken"})).json()  # fmt: skip
    return {"cycle": c, "facility": f, "caf": helper, "activity": forum, "scorecard": card,
            "jaap": jaap, "action": jaap["actions"][0], "training": training,
            "item": item}  # fmt: skip


READS = {
    "cycle": "/cycles/{id}", "facility": "/facilities/{id}", "caf": "/cafs/{id}",
    "activity": "/activities/{id}", "scorecard": "/scorecards/{id}", "jaap": "/jaaps/{id}",
    "action": "/jaap-actions/{id}", "training": "/trainings/{id}", "item": "/forum-items/{id}",
}  # fmt: skip
LISTS = {
    "cycle": "/cycles", "facility": "/facilities", "caf": "/cafs", "activity": "/activities",
    "scorecard": "/scorecards", "jaap": "/jaaps", "training": "/trainings", "item": "/forum-items",
}  # fmt: skip


async def test_reads_and_lists_show_a_record_only_inside_ones_area(service, world):
    problems = []
    for who, principal in {**INSIDE, **OUTSIDE}.items():
        async with service.client(principal) as client:
            for name, template in READS.items():
                record_id = world[name]["id"]
                status = (await client.get(template.format(id=record_id))).status_code
                expected = 200 if who in INSIDE else 404
                if status != expected:
                    problems.append(f"{who} GET {template}: {status}, not {expected}")
            for name, url in LISTS.items():
                listed = (await client.get(url)).json()["items"]
                present = any(r["id"] == world[name]["id"] for r in listed)
                if present != (who in INSIDE):
                    problems.append(f"{who} GET {url}: listed={present}")
            report = await client.get(
                "/reports/summary", params={"from_year": YEAR, "to_year": YEAR}
            )
            rows = {r["measure"]: r["total"] for r in report.json()["rows"]}
            if (rows["public_forums"] == 1) != (who in INSIDE):
                problems.append(f"{who} summary counts the forum: {rows['public_forums']}")
            for name in ("participation", "cafs", "jaap-completion"):
                response = await client.get(
                    f"/reports/{name}", params={"from_year": YEAR, "to_year": YEAR}
                )
                if bool(response.json()["rows"]) != (who in INSIDE):
                    problems.append(f"{who} /reports/{name}: {response.json()['rows']}")
    assert problems == []


def changes(world: dict) -> list[tuple[str, str, dict]]:
    c, f = world["cycle"], world["facility"]
    return [
        ("POST", f"/cycles/{c['id']}/stage", {"stage": "scorecard"}),
        ("PATCH", f"/cafs/{world['caf']['id']}", {"active": False}),
        ("PUT", f"/scorecards/{world['scorecard']['id']}/sitting",
         sitting(c["id"], f["id"], scores=[1, 1])),
        ("POST", f"/scorecards/{world['scorecard']['id']}/status", {"status": "in_review"}),
        ("POST", f"/jaaps/{world['jaap']['id']}/actions",
         {"description": "More", "responsible_party": "Council", "responsible_tier": "cs",
          "deadline": f"{YEAR}-12-01"}),
        ("POST", f"/jaap-actions/{world['action']['id']}/status",
         {"status": "in_progress", "note": "Started"}),
        ("POST", f"/jaap-actions/{world['action']['id']}/support-request",
         {"request_type": "budget", "addressed_tier": "dmk"}),
        ("POST", f"/forum-items/{world['item']['id']}/answer", {"answer": "Fixed next week"}),
        ("POST", f"/forum-items/{world['item']['id']}/send-to-grievance", {"category": "other"}),
        ("POST", "/facilities", {"location_code": "120801", "facility_type": "primary_school",
                                 "name_km": "សាលា", "name_en": "School"}),
        ("POST", "/cycles", {"location_code": "120801", "year": YEAR + 1}),
        ("POST", "/cafs", {"location_code": "120801", "name": "X", "sex": "male"}),
        ("POST", "/activities", {"cycle_id": c["id"], "activity_type": "i4c_dissemination",
                                 "held_on": f"{YEAR}-03-01", "venue": "Hall",
                                 "participants": {"total": 3, "female": 1, "male": 2}}),
        ("POST", "/scorecards", {"cycle_id": c["id"], "facility_id": f["id"],
                                 "kind": "self_assessment"}),
        ("POST", "/trainings", {"location_code": "120801", "audience": "sna_staff",
                                "topics": ["x"], "starts_on": f"{YEAR}-01-02",
                                "ends_on": f"{YEAR}-01-02", "venue": "Hall",
                                "attendees_total": 1, "attendees_female": 1,
                                "attendees_male": 0}),
        ("POST", "/forum-items", {"activity_id": world["activity"]["id"], "kind": "question",
                                  "text": "When?"}),
    ]  # fmt: skip


async def snapshot(service, world) -> dict:
    async with service.client(NATIONAL) as national:
        seen = {}
        for name, template in READS.items():
            response = await national.get(template.format(id=world[name]["id"]))
            seen[name] = response.text
        seen["cycles"] = len((await national.get("/cycles")).json()["items"])
        seen["facilities"] = len((await national.get("/facilities")).json()["items"])
        seen["cafs"] = len((await national.get("/cafs")).json()["items"])
        seen["activities"] = len((await national.get("/activities")).json()["items"])
        seen["scorecards"] = len((await national.get("/scorecards")).json()["items"])
        seen["trainings"] = len((await national.get("/trainings")).json()["items"])
        seen["items"] = len((await national.get("/forum-items")).json()["items"])
    return seen


async def test_changes_outside_ones_area_or_tier_are_refused_and_change_nothing(service, world):
    before = await snapshot(service, world)
    problems = []
    for who, principal in {**OUTSIDE, "capital": CP_PHNOM_PENH, "national": NATIONAL}.items():
        async with service.client(principal) as client:
            for method, url, body in changes(world):
                response = await client.request(method, url, json=body, headers={"If-Match": "*"})
                if response.status_code != 403:
                    problems.append(f"{who} {method} {url}: {response.status_code}")
    assert problems == []
    assert await snapshot(service, world) == before


async def test_the_district_records_in_its_sangkats(service, world):
    async with service.client(DMK_SEN_SOK) as district:
        for method, url, body in changes(world):
            response = await district.request(method, url, json=body, headers={"If-Match": "*"})
            assert response.status_code in (200, 201), f"{method} {url}: {response.text}"
