"""DCI through the gateway: who may call it, and subscribe -> registry event -> notify, with
the registry running as a real process (its relay publishes, its consumer notifies)."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from shared.db.engine import asyncpg_dsn
from shared.events.catalog.registry import HouseholdUpdated, HouseholdVerified
from shared.outbox import emit
from tests.harness import wait_for
from tests.registry.dci_support import (
    Receiver,
    by_household_id,
    codes_of,
    header,
    now,
    search_message,
)
from tests.registry.factories import (
    VILLAGE_BANTEAY_MEANCHEY,
    VILLAGE_PHNOM_PENH_THMEI,
    RegistryRows,
    make_household,
)

SYNC = "/registry/dci/registry/sync/search"


@pytest.fixture
async def households(infrastructure, clean_databases):
    async with RegistryRows(infrastructure.database_url("registry")) as session:
        near = await make_household(session, village_code=VILLAGE_PHNOM_PENH_THMEI)
        far = await make_household(session, village_code=VILLAGE_BANTEAY_MEANCHEY)
    return near, far


# -- access through the gateway --------------------------------------------------------------


async def test_a_client_with_the_scope_finds_a_household_by_its_id(platform, households):
    near, _ = households
    async with platform.client("client:moh-health-equity") as client:
        response = await client.post(SYNC, json=search_message(by_household_id(near.code)))
    assert response.status_code == 200, response.text
    [item] = response.json()["message"]["search_response"]
    assert codes_of(item) == [near.code]


async def test_a_client_limited_to_phnom_penh_finds_nothing_elsewhere(platform, households):
    near, far = households
    async with platform.client("client:pp-social-services") as client:
        response = await client.post(
            SYNC, json=search_message(by_household_id(near.code), by_household_id(far.code))
        )
    assert response.status_code == 200, response.text
    in_area, elsewhere = response.json()["message"]["search_response"]
    assert codes_of(in_area) == [near.code]
    assert codes_of(elsewhere) == []


@pytest.mark.parametrize(
    ("caller", "status"),
    [
        ("client:partner-without-scope", 403),
        ("cs.phnom-penh-thmei", 403),
        ("dmk.sen-sok", 403),
        ("national.officer", 403),
        ("anonymous", 401),
    ],
)
async def test_everyone_else_is_refused_at_the_gateway(platform, households, caller, status):
    near, _ = households
    async with platform.client(caller) as client:
        search = await client.post(SYNC, json=search_message(by_household_id(near.code)))
        listing = await client.get("/registry/dci/registry/subscriptions")
    assert search.status_code == status
    assert listing.status_code == status
    # The gateway's own refusal, in the DCI standard's error format on DCI routes.
    for answer in (search, listing):
        assert answer.headers["content-type"] == "application/json"
        expected = "err.request.unauthorized" if status == 401 else "err.request.forbidden"
        assert [e["code"] for e in answer.json()["errors"]] == [expected]


# -- subscribe and notify ----------------------------------------------------------------------


def subscribe_message(callback: str, notify_uri: str, *, event_type: str, filter_=None) -> dict:
    criteria = {
        "version": "1.0.0",
        "reg_event_type": event_type,
        "notify_record_type": "Group",
        "filter_type": "expression",
        "filter": filter_ or {},
    }
    return {
        "signature": "",
        "header": header("subscribe", 1, sender_uri=callback, meta={"notify_uri": notify_uri}),
        "message": {
            "transaction_id": uuid.uuid4().hex[:10],
            "subscribe_request": [
                {"reference_id": "sub-1", "timestamp": now(), "subscribe_criteria": criteria}
            ],
        },
    }


def in_district(code: str) -> dict:
    return {
        "type": "ns:org:QueryType:NoSql",
        "value": {"expression": {"collection": "Group", "query": {"location_code": {"$eq": code}}}},
    }


async def registry_event(infrastructure, event, *, subject, jurisdiction) -> uuid.UUID:
    """A registry event written to the registry's outbox, as a registry write would; the
    registry process's relay publishes it."""
    async with RegistryRows(infrastructure.database_url("registry")) as session:
        return await emit(session, event, subject=subject, jurisdiction=jurisdiction)


def household_updated(household) -> HouseholdUpdated:
    return HouseholdUpdated(
        household_id=household.id,
        household_code=household.code,
        village_code=household.village_code,
        status="active",
        record_version=household.version,
        changed_fields=["address"],
    )


async def handled(infrastructure, event_ids: list[uuid.UUID]) -> bool:
    conn = await asyncpg.connect(asyncpg_dsn(infrastructure.database_url("registry")))
    try:
        done = await conn.fetchval(
            "SELECT count(*) FROM inbox WHERE consumer = 'registry.dci-notify' "
            "AND id = ANY($1::text[])",
            [str(i) for i in event_ids],
        )
    finally:
        await conn.close()
    return done == len(event_ids)


async def test_subscribe_then_a_registry_event_notifies_the_subscriber(
    platform, infrastructure, households
):
    near, far = households
    async with Receiver() as receiver:
        async with platform.client("client:moh-health-equity") as client:
            ack = await client.post(
                "/registry/dci/registry/subscribe",
                json=subscribe_message(
                    receiver.url("/cb/on-subscribe"),
                    receiver.url("/cb/notify"),
                    event_type="UPDATE",
                    filter_=in_district("1208"),
                ),
            )
            assert ack.status_code == 200, ack.text
            assert ack.json()["message"]["ack_status"] == "ACK"
            await wait_for(lambda: receiver.received, timeout=20)
            [on_subscribe] = receiver.received
            assert on_subscribe["path"] == "/cb/on-subscribe"
            [answer] = on_subscribe["body"]["message"]["subscribe_response"]
            assert answer["status"] == "succ"
            [subscription] = answer["subscriptions"]
            code = subscription["code"]
            assert subscription["reg_event_type"] == "UPDATE"

            listing = await client.get("/registry/dci/registry/subscriptions")
            assert [s["code"] for s in listing.json()["items"]] == [code]

        # One event outside the filter, one inside, one of a type nobody subscribed to.
        ids = [
            await registry_event(
                infrastructure,
                household_updated(far),
                subject=far.id,
                jurisdiction=far.village_code,
            ),
            await registry_event(
                infrastructure,
                HouseholdVerified(
                    household_id=near.id,
                    household_code=near.code,
                    village_code=near.village_code,
                    status="active",
                    record_version=near.version,
                ),
                subject=near.id,
                jurisdiction=near.village_code,
            ),
            await registry_event(
                infrastructure,
                household_updated(near),
                subject=near.id,
                jurisdiction=near.village_code,
            ),
        ]
        await wait_for(lambda: handled(infrastructure, ids), timeout=30)
        await wait_for(
            lambda: any(r["path"] == "/cb/notify" for r in receiver.received), timeout=20
        )
    notifications = [r["body"] for r in receiver.received if r["path"] == "/cb/notify"]
    [notify] = notifications
    assert notify["header"]["action"] == "notify"
    assert notify["header"]["meta"]["subscription_code"] == code
    [event] = notify["message"]["notify_event"]
    assert event["reference_id"] == "sub-1"
    assert event["data"]["reg_event_type"] == "UPDATE"
    assert event["data"]["reg_record_type"] == "Group"
    [record] = event["data"]["reg_records"]
    assert record["group_identifier"][0]["identifier_value"] == near.code


async def test_unsubscribe_stops_the_subscription(platform, households):
    async with Receiver() as receiver, platform.client("client:moh-health-equity") as client:
        await client.post(
            "/registry/dci/registry/subscribe",
            json=subscribe_message(
                receiver.url("/cb/on-subscribe"), receiver.url("/cb/notify"), event_type="DEATH"
            ),
        )
        listing = await client.get("/registry/dci/registry/subscriptions")
        [subscription] = listing.json()["items"]
        ack = await client.post(
            "/registry/dci/registry/unsubscribe",
            json={
                "signature": "",
                "header": header("unsubscribe", 1),
                "message": {
                    "transaction_id": "u-1",
                    "timestamp": now(),
                    "subscription_codes": [subscription["code"], "SUB-NOT-MINE"],
                },
            },
        )
        after = await client.get(
            "/registry/dci/registry/subscriptions", params={"status": "subscribe"}
        )
        stopped = await client.get(
            "/registry/dci/registry/subscriptions", params={"status": "unsubscribe"}
        )
    assert ack.json()["message"]["ack_status"] == "ACK"
    assert after.json()["items"] == []
    assert [s["code"] for s in stopped.json()["items"]] == [subscription["code"]]


async def test_invalid_subscriptions_are_rejected_with_the_standards_codes(platform, households):
    async with Receiver() as receiver:
        message = subscribe_message(
            receiver.url("/cb/on-subscribe"), receiver.url("/cb/notify"), event_type="BIRTHDAY"
        )
        message["message"]["subscribe_request"].append(
            {
                "reference_id": "sub-2",
                "timestamp": now(),
                "subscribe_criteria": {
                    "reg_event_type": "UPDATE",
                    "notify_record_type": "Group",
                    "filter_type": "expression",
                    "filter": in_district("99"),
                },
            }
        )
        message["header"]["total_count"] = 2
        async with platform.client("client:moh-health-equity") as client:
            ack = await client.post("/registry/dci/registry/subscribe", json=message)
            await wait_for(lambda: receiver.received, timeout=20)
            listing = await client.get("/registry/dci/registry/subscriptions")
    assert ack.json()["message"]["ack_status"] == "ACK"
    answers = receiver.received[0]["body"]["message"]["subscribe_response"]
    assert [(a["status"], a["status_reason_code"]) for a in answers] == [
        ("rjct", "rjct.notify_types.invalid"),
        ("rjct", "rjct.notify_details.invalid"),
    ]
    assert listing.json()["items"] == []
