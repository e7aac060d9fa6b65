"""Support requests between tiers: asked of the parent or grandparent only, decided only by
the addressed unit; a JAAP action's need arriving from the I-SAF service (on the real broker)
becomes a request whose decision goes back as `budget.support_request.decided`; the report
by type gives counts and shares."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from services.budget.config import Settings
from services.budget.main import create_app
from shared.clock import ManualClock
from shared.events.catalog.isaf import JaapActionSupportRequested
from shared.events.envelope import CloudEvent, encode, format_sequence
from tests.budget.conftest import (
    BANTEAY_MEANCHEY,
    NATIONAL_PLANNER,
    PHNOM_PENH_THMEI,
    PP_PLANNER,
    SEN_SOK_APPROVER,
    SEN_SOK_PLANNER,
    START,
    TUEK_THLA,
    BudgetService,
    ok,
)
from tests.harness import envelopes, produce, read_topic, running, wait_for

ASK = {"addressed_tier": "dmk", "request_type": "training_workshop",
       "description": "Training of CAFs on the scorecard", "amount_riel": 2_400_000}  # fmt: skip


async def act(client, row: dict, action: str, body: dict | None = None):
    current = await client.get(f"/support-requests/{row['id']}")
    return await client.post(
        f"/support-requests/{row['id']}/{action}",
        json=body or {},
        headers={"If-Match": current.headers.get("etag", '"0"')},
    )


async def test_a_commune_asks_its_district_which_alone_decides(service):
    async with service.client(PHNOM_PENH_THMEI) as commune:
        asked = await ok(await commune.post("/support-requests", json=ASK), 201)
        national = await commune.post(
            "/support-requests", json={**ASK, "addressed_tier": "national"}
        )
    assert (asked["addressed_tier"], asked["addressed_admin_code"]) == ("dmk", "1208")
    assert asked["status"] == "submitted" and asked["request_type_en"] == "Trainings and workshops"
    assert national.status_code == 422
    assert national.json()["errors"][0]["field"] == "addressed_tier"

    seen = {}
    for name, caller in {
        "own": PHNOM_PENH_THMEI, "sibling": TUEK_THLA, "parent": SEN_SOK_APPROVER,
        "province": PP_PLANNER, "other": BANTEAY_MEANCHEY, "national": NATIONAL_PLANNER,
    }.items():  # fmt: skip
        async with service.client(caller) as client:
            read = await client.get(f"/support-requests/{asked['id']}")
            decide = await client.post(
                f"/support-requests/{asked['id']}/decide",
                json={"decision": "rejected", "reason": "no"},
                headers={"If-Match": "*"},
            )
            seen[name] = (read.status_code, decide.status_code)
            if name == "province":
                assert decide.json()["errors"][0]["field"] == "addressed_admin_code"
    assert seen == {
        "own": (200, 403), "sibling": (404, 404), "parent": (200, 200),
        "province": (200, 403), "other": (404, 404), "national": (200, 403),
    }  # fmt: skip


async def test_a_retried_request_with_its_idempotency_key_is_stored_once(service):
    key = {"Idempotency-Key": "support-2027-01"}
    async with service.client(PHNOM_PENH_THMEI) as commune:
        first = await commune.post("/support-requests", json=ASK, headers=key)
        again = await commune.post("/support-requests", json=ASK, headers=key)
        other = await commune.post("/support-requests", json={**ASK, "amount_riel": 1}, headers=key)
        listed = await ok(await commune.get("/support-requests"))
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert first.json()["id"] == again.json()["id"]
    assert other.status_code == 422
    assert len(listed["items"]) == 1


async def test_review_partial_approval_and_fulfilment(service):
    async with service.client(PHNOM_PENH_THMEI) as commune:
        asked = await ok(await commune.post("/support-requests", json=ASK), 201)
        incentive = await ok(
            await commune.post("/support-requests", json={**ASK, "request_type": "incentive"}), 201
        )
        await ok(
            await commune.post("/support-requests", json={**ASK, "request_type": "incentive",
                                                          "addressed_tier": "cp"}), 201
        )  # fmt: skip
    async with service.client(SEN_SOK_PLANNER) as district:
        await ok(await act(district, asked, "review"))
        too_much = await act(
            district,
            asked,
            "decide",
            {"decision": "partly_approved", "approved_amount_riel": 2_400_000},
        )
        partly = await ok(await act(district, asked, "decide",
                                    {"decision": "partly_approved",
                                     "approved_amount_riel": 1_000_000}))  # fmt: skip
        fulfilled = await ok(await act(district, asked, "fulfil"))
        again = await act(district, asked, "fulfil")
        rejected_without_reason = await act(district, incentive, "decide", {"decision": "rejected"})
        report = await ok(
            await district.get("/reports/support-requests", params={"fiscal_year": START.year})
        )
        table = await district.get(
            "/reports/support-requests", params={"fiscal_year": START.year, "format": "csv"}
        )
    assert too_much.status_code == 422
    assert too_much.json()["errors"][0]["field"] == "approved_amount_riel"
    assert partly["status"] == "partly_approved" and partly["approved_amount_riel"] == 1_000_000
    assert fulfilled["status"] == "fulfilled"
    assert again.status_code == 409
    assert rejected_without_reason.status_code == 422
    assert report["total"] == 3
    shares = {t["request_type"]: (t["count"], t["share"]) for t in report["by_type"]}
    assert shares["training_workshop"] == (1, 0.3333)
    assert shares["incentive"] == (2, 0.6667)
    assert shares["staff"] == (0, 0.0)
    assert {(g["requesting_tier"], g["addressed_tier"]) for g in report["by_tier"]} == {
        ("cs", "dmk"), ("cs", "cp"),
    }  # fmt: skip
    assert report["by_status"] == {"fulfilled": 1, "submitted": 2}
    assert table.headers["content-type"].startswith("text/csv")
    assert f"{START.year},1208,all,all,incentive,Incentives,ប្រាក់លើកទឹកចិត្ត,2,0.6667," in table.text


@pytest.fixture
async def consuming_service(infrastructure, clean_databases):
    """A second budget app with its consumers running on the real broker."""
    settings = Settings(
        database_url=infrastructure.database_url("budget"),
        kafka_bootstrap_servers=infrastructure.bootstrap_servers,
        log_json=False,
        consumers_enabled=True,
        outbox_poll_interval_seconds=0.2,
    )
    app = create_app(settings, clock=ManualClock(START))
    async with running(app):
        yield BudgetService(app, app.state.clock)


async def publish_as_isaf(
    infrastructure, event: JaapActionSupportRequested, source: str, key: uuid.UUID | None = None
) -> None:
    envelope = CloudEvent(
        id=str(uuid.uuid4()), source=source, type=event.event_type(),
        subject=str(event.action_id), time=datetime.now(UTC), dataschema=event.dataschema(),
        data=event.model_dump(mode="json"), jurisdiction=event.requesting_admin_code,
        sequence=format_sequence(1),
    )  # fmt: skip
    await produce(
        infrastructure.bootstrap_servers, event.topic(), encode(envelope),
        key=str(key or event.action_id).encode(),
    )  # fmt: skip


async def test_a_jaap_action_becomes_a_request_and_its_decision_goes_back(
    infrastructure, consuming_service
):
    action_id, forged_id = uuid.uuid4(), uuid.uuid4()

    def need(action) -> JaapActionSupportRequested:
        return JaapActionSupportRequested(
            jaap_id=uuid.uuid4(), action_id=action, cycle_id=uuid.uuid4(),
            requesting_admin_code="120801", addressed_tier="dmk", addressed_admin_code="1208",
            request_type="training_workshop", description="Training on the health centre "
            "scorecard for CAFs", amount_riel=1_800_000, requested_at=START,
        )  # fmt: skip

    # The same event from anyone but the I-SAF service is not applied. Keyed as the real one
    # that follows it, it is on the same partition and handled first: once the real request
    # shows, the forged one has had its chance.
    await publish_as_isaf(infrastructure, need(forged_id), "/sp/grievance", key=action_id)
    await publish_as_isaf(infrastructure, need(action_id), "/sp/isaf")

    async def opened():
        async with consuming_service.client(SEN_SOK_APPROVER) as district:
            rows = (
                await district.get("/support-requests", params={"addressed_to_me": True})
            ).json()["items"]
        return [r for r in rows if r["isaf_action_id"] == str(action_id)]

    [request] = await wait_for(opened, timeout=60)
    assert request["requesting_admin_code"] == "120801"
    assert request["request_type"] == "training_workshop"
    async with consuming_service.client(SEN_SOK_APPROVER) as district:
        await ok(await act(district, request, "decide", {"decision": "approved"}))
        listed = (await district.get("/support-requests")).json()["items"]
    assert all(r["isaf_action_id"] != str(forged_id) for r in listed)

    def decided(records) -> list[dict]:
        return [
            e for e in envelopes(records)
            if e["type"].endswith("support_request.decided.v1")
            and e["data"]["isaf_action_id"] == str(action_id)
        ]  # fmt: skip

    records = await read_topic(
        infrastructure.bootstrap_servers, "sp.budget.support_request",
        until=lambda r: bool(decided(r)), timeout=60,
    )  # fmt: skip
    [event] = decided(records)
    assert event["source"] == "/sp/budget"
    assert event["data"]["decision"] == "approved"
    assert event["data"]["approved_amount_riel"] == 1_800_000
