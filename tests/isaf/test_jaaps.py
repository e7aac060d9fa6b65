"""JAAPs: adopted with typed actions, monitored through valid status changes with notes,
a budget need raised as a support request, and the budget service's answers onto the action
(its consumer fed with the catalog events, on the real database)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg
import pytest

from services.isaf.budget import consumer as budget_consumer
from shared.clock import ManualClock
from shared.consumer import ConsumerContext
from shared.db.engine import Database, asyncpg_dsn
from shared.events.catalog.budget import SupportRequestDecided, SupportRequestFulfilled
from tests.isaf.conftest import (
    CS_PHNOM_PENH_THMEI,
    CS_TUEK_THLA,
    START,
    YEAR,
    activity,
    cycle,
    facility,
    sitting,
)


async def adopted_jaap(service) -> dict:
    async with service.client(CS_PHNOM_PENH_THMEI) as client:
        c = await cycle(client)
        f = await facility(client)
        scorecard_id = str(uuid.uuid4())
        card = (await client.put(f"/scorecards/{scorecard_id}/sitting",
                                 json=sitting(c["id"], f["id"]))).json()  # fmt: skip
        meeting = await activity(client, c["id"], "interface_meeting", held_on=f"{YEAR}-06-01")
        body = {
            "cycle_id": c["id"], "adopted_on": f"{YEAR}-06-01",
            "interface_meeting_id": meeting["id"],
            "actions": [
                {"description": "Post the opening hours at the gate", "scorecard_id": scorecard_id,
                 "indicator_id": card["indicators"][0]["id"],
                 "responsible_party": "Chief of the health centre",
                 "responsible_tier": "provider", "deadline": f"{YEAR}-09-30"},
                {"description": "Buy a second delivery bed", "facility_id": f["id"],
                 "responsible_party": "Sangkat council", "responsible_tier": "cs",
                 "deadline": f"{YEAR}-12-31", "budget_need_riel": 2_400_000},
            ],
        }  # fmt: skip
        response = await client.post("/jaaps", json=body)
        assert response.status_code == 201, response.text
        again = await client.post("/jaaps", json=body)
        assert again.status_code == 409 and again.json()["errors"][0]["field"] == "cycle_id"
        return response.json()


async def test_a_jaap_is_adopted_with_actions_linked_to_indicator_medians(service):
    jaap = await adopted_jaap(service)
    first, second = jaap["actions"]
    assert first["indicator_median"] == 3.5 and first["indicator_name_en"]
    assert first["status"] == "not_started" and second["budget_need_riel"] == 2_400_000


async def test_actions_move_through_valid_statuses_with_timestamped_notes(service):
    jaap = await adopted_jaap(service)
    action = jaap["actions"][0]
    url = f"/jaap-actions/{action['id']}"
    async with service.client(CS_PHNOM_PENH_THMEI) as client:
        etag = f'"{action["version"]}"'
        started = await client.post(f"{url}/status", headers={"If-Match": etag},
                                    json={"status": "in_progress",
                                          "note": "Board ordered"})  # fmt: skip
        assert started.status_code == 200, started.text
        etag = started.headers["etag"]
        back = await client.post(f"{url}/status", headers={"If-Match": etag},
                                 json={"status": "not_started", "note": "Oops"})  # fmt: skip
        assert back.status_code == 409 and back.json()["errors"][0]["field"] == "status"
        no_reason = await client.post(f"{url}/status", headers={"If-Match": etag},
                                      json={"status": "dropped", "note": "Stopped"})  # fmt: skip
        assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "reason"
        done = await client.post(f"{url}/status", headers={"If-Match": etag},
                                 json={"status": "completed", "note": "Board is up"})  # fmt: skip
        assert done.status_code == 200
        history = done.json()["updates"]
    assert [(u["from_status"], u["to_status"]) for u in history] == [
        (None, "not_started"), ("not_started", "in_progress"), ("in_progress", "completed"),
    ]  # fmt: skip
    assert all(u["at"] and u["note"] for u in history)
    async with service.client(CS_TUEK_THLA) as sibling:
        refused = await sibling.post(f"{url}/status", headers={"If-Match": "*"},
                                     json={"status": "dropped", "note": "x",
                                           "reason": "y"})  # fmt: skip
        assert refused.status_code == 403


async def test_a_budget_need_becomes_a_support_request_and_the_answers_come_back(
    service, infrastructure
):
    jaap = await adopted_jaap(service)
    no_need, need = jaap["actions"]
    async with service.client(CS_PHNOM_PENH_THMEI) as client:
        refused = await client.post(
            f"/jaap-actions/{no_need['id']}/support-request", headers={"If-Match": '"1"'},
            json={"request_type": "budget", "addressed_tier": "dmk"},
        )  # fmt: skip
        assert refused.status_code == 409
        asked = await client.post(
            f"/jaap-actions/{need['id']}/support-request", headers={"If-Match": '"1"'},
            json={"request_type": "equipment", "addressed_tier": "dmk"},
        )  # fmt: skip
        assert asked.status_code == 200, asked.text
        assert asked.json()["support_status"] == "requested"
        assert asked.json()["support_addressed_admin_code"] == "1208"
        twice = await client.post(
            f"/jaap-actions/{need['id']}/support-request",
            headers={"If-Match": asked.headers["etag"]},
            json={"request_type": "equipment", "addressed_tier": "cp"},
        )  # fmt: skip
        assert twice.status_code == 409
    conn = await asyncpg.connect(asyncpg_dsn(infrastructure.database_url("isaf")))
    try:
        row = await conn.fetchrow(
            "SELECT topic, payload FROM outbox WHERE type LIKE '%action_support_requested%'"
        )
    finally:
        await conn.close()
    assert row["topic"] == "sp.isaf.jaap"
    assert (
        '"amount_riel": 2400000' in row["payload"] and '"addressed_tier": "dmk"' in row["payload"]
    )

    common = {
        "support_request_id": uuid.uuid4(), "requesting_admin_code": "120801",
        "addressed_tier": "dmk", "addressed_admin_code": "1208", "request_type": "equipment",
        "isaf_action_id": need["id"],
    }  # fmt: skip
    database = Database(infrastructure.database_url("isaf"), pool_size=1)
    context = ConsumerContext(clock=ManualClock(START))
    try:
        async with database.transaction() as session:
            await budget_consumer.support_request_decided(
                session,
                SupportRequestDecided(**common, decision="partly_approved",
                                      requested_amount_riel=2_400_000,
                                      approved_amount_riel=1_800_000, reason="One bed this year",
                                      decided_at=datetime.now(UTC)),
                None, context=context,
            )  # fmt: skip
        async with service.client(CS_PHNOM_PENH_THMEI) as client:
            read = (await client.get(f"/jaap-actions/{need['id']}")).json()
        assert read["support_status"] == "partly_approved"
        assert read["support_approved_riel"] == 1_800_000
        async with database.transaction() as session:
            await budget_consumer.support_request_fulfilled(
                session,
                SupportRequestFulfilled(**common, approved_amount_riel=1_800_000,
                                        fulfilled_at=datetime.now(UTC)),
                None, context=context,
            )  # fmt: skip
        async with service.client(CS_PHNOM_PENH_THMEI) as client:
            read = (await client.get(f"/jaap-actions/{need['id']}")).json()
        assert read["support_status"] == "fulfilled"
        assert "fulfilled" in read["updates"][-1]["note"]
    finally:
        await database.dispose()


@pytest.mark.parametrize("deadline", ["2000-01-01"])
async def test_an_action_deadline_before_adoption_is_refused(service, deadline):
    async with service.client(CS_PHNOM_PENH_THMEI) as client:
        c = await cycle(client)
        body = {"cycle_id": c["id"], "adopted_on": f"{YEAR}-06-01",
                "actions": [{"description": "x", "responsible_party": "Council",
                             "responsible_tier": "cs", "deadline": deadline}]}  # fmt: skip
        response = await client.post("/jaaps", json=body)
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "actions.0.deadline"
        assert (await client.get("/jaaps")).json()["items"] == []
