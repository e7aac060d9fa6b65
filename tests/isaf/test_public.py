"""The public I4C view: standards, the latest completed results, JAAP progress and the budget
from the budget service's events, with no personal data and no record ids."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime

from services.isaf.budget import consumer as budget_consumer
from shared.db.engine import Database
from shared.events.catalog.budget import (
    AllocationPublished,
    ExpenditureRecorded,
    ReleaseRecorded,
    UnitAmount,
)
from tests.isaf.conftest import CS_PHNOM_PENH_THMEI, YEAR, caf, cycle, facility, sitting


async def recorded_commune(service) -> dict:
    async with service.client(CS_PHNOM_PENH_THMEI) as client:
        c = await cycle(client)
        f = await facility(client)
        helper = await caf(client, name="Kanhchana Boramey", phone="+855 97 111 2233")
        document = sitting(c["id"], f["id"], scores=[4, 3, 5, 2])
        document["facilitator_caf_ids"] = [helper["id"]]
        url = f"/scorecards/{uuid.uuid4()}"
        r = await client.put(f"{url}/sitting", json=document)
        etag = r.headers["etag"]
        draft_url = f"/scorecards/{uuid.uuid4()}"
        draft = sitting(c["id"], f["id"], kind="self_assessment", scores=[1, 1])
        await client.put(f"{draft_url}/sitting", json=draft)  # never completed
        for status in ("in_review", "completed"):
            r = await client.post(f"{url}/status", json={"status": status},
                                  headers={"If-Match": etag})  # fmt: skip
            etag = r.headers["etag"]
        jaap = (await client.post("/jaaps", json={
            "cycle_id": c["id"], "adopted_on": f"{YEAR}-06-01",
            "actions": [{"description": "Post the fees at the gate", "facility_id": f["id"],
                         "responsible_party": "Chief of the health centre",
                         "responsible_tier": "provider", "deadline": f"{YEAR}-09-30"}],
        })).json()  # fmt: skip
    return {"cycle": c, "facility": f, "caf": helper, "document": document, "jaap": jaap}


async def test_the_public_view_shows_results_without_personal_data_or_ids(service):
    world = await recorded_commune(service)
    async with service.client(None) as citizen:
        response = await citizen.get("/public/communes/120801")
    assert response.status_code == 200, response.text
    view = response.json()
    assert view["name_en"] == "Phnom Penh Thmei"
    [hc] = view["facilities"]
    assert len(hc["standards"]) == 8 and hc["standards"][0]["audio"].endswith(".mp3")
    assert [r["median"] for r in hc["latest_scorecard"]["results"]] == [3.5, 3.5]
    assert hc["latest_scorecard"]["participants"] == 4
    assert hc["latest_self_assessment"] is None  # only completed scorecards are public
    [jaap] = view["jaaps"]
    assert jaap["actions_adopted"] == 1 and jaap["actions"][0]["status"] == "not_started"
    assert view["budget"] == []
    text = response.text
    secrets = [
        world["caf"]["name"], "97 111", world["caf"]["id"], world["cycle"]["id"],
        world["facility"]["id"], world["jaap"]["id"], world["jaap"]["actions"][0]["id"],
        *(p["id"] for p in world["document"]["participants"]),
        *(i["id"] for i in world["document"]["indicators"]),
    ]  # fmt: skip
    assert [s for s in secrets if s in text] == []
    assert "sex" not in json.dumps(hc["latest_scorecard"])


async def test_the_budget_section_fills_from_the_budget_services_events(service, infrastructure):
    database = Database(infrastructure.database_url("isaf"), pool_size=1)
    run_id = uuid.uuid4()
    published = AllocationPublished(
        run_id=run_id, fiscal_year=YEAR, line_code="social_protection",
        allocating_tier="dmk", allocating_admin_code="1208", formula_code="equal",
        formula_version=1, envelope_riel=30_000_000,
        units=[UnitAmount(admin_code="120801", amount_riel=12_000_000),
               UnitAmount(admin_code="120802", amount_riel=18_000_000)],
        published_at=datetime.now(UTC),
    )  # fmt: skip
    release = ReleaseRecorded(
        release_id=uuid.uuid4(), run_id=run_id, fiscal_year=YEAR, line_code="social_protection",
        admin_code="120801", tranche=1, amount_riel=6_000_000, planned_on=date(YEAR, 3, 1),
        released_on=date(YEAR, 3, 9), delay_days=8,
    )  # fmt: skip
    spent = ExpenditureRecorded(
        expenditure_id=uuid.uuid4(), fiscal_year=YEAR, line_code="social_protection",
        admin_code="120801", amount_riel=2_500_000, spent_on=date(YEAR, 4, 2),
    )  # fmt: skip
    try:
        for _ in range(2):  # the same facts twice (a republish) count once
            async with database.transaction() as session:
                await budget_consumer.allocation_published(session, published, None)
                await budget_consumer.release_recorded(session, release, None)
                await budget_consumer.expenditure_recorded(session, spent, None)
    finally:
        await database.dispose()
    async with service.client(None) as citizen:
        view = (await citizen.get("/public/communes/120801")).json()
        sibling = (await citizen.get("/public/communes/120802")).json()
        village = await citizen.get("/public/communes/12080102")
    assert view["budget"] == [
        {"fiscal_year": YEAR, "allocated_riel": 12_000_000, "released_riel": 6_000_000,
         "spent_riel": 2_500_000},
    ]  # fmt: skip
    assert sibling["budget"][0]["allocated_riel"] == 18_000_000
    # A village is not where a cycle is: the path's pattern (4 or 6 digits) refuses it.
    assert village.status_code == 422 and village.json()["errors"][0]["field"] == "path.code"


async def test_the_indicator_catalogue_is_public_in_both_languages(service):
    async with service.client(None) as citizen:
        km = await citizen.get(
            "/indicators", params={"facility_type": "primary_school"},
            headers={"Accept-Language": "km"},
        )  # fmt: skip
    body = km.json()
    assert km.status_code == 200 and len(body["indicators"]) == 8
    assert body["indicators"][0]["name"] == body["indicators"][0]["name_km"]
    assert [s["label_en"] for s in body["scale"]] == [
        "very bad", "bad", "acceptable", "good", "very good",
    ]  # fmt: skip
