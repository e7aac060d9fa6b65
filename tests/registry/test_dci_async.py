"""DCI async search with callbacks to the client's endpoint, retries, and transaction status."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from services.registry.dci import service
from services.registry.dci.models import DciDelivery, DciTransaction
from tests.harness import client_for, wait_for
from tests.registry.dci_support import (
    ALLOW_TEST_CALLBACKS,
    DCI_CLIENT,
    Receiver,
    by_household_id,
    codes_of,
    header,
    in_phnom_penh,
    now,
    search_message,
    subscribe_message,
)
from tests.registry.factories import RegistryRows, make_household

pytestmark = ALLOW_TEST_CALLBACKS


@pytest.fixture
async def household(infrastructure, clean_databases):
    async with RegistryRows(infrastructure.database_url("registry")) as session:
        return await make_household(session, poverty_level="POOR_2")


def status_request(attribute_type: str, value, txn_type: str = "search", **header_fields):
    return {
        "signature": "",
        "header": header("txn-status", 1, **header_fields),
        "message": {
            "transaction_id": uuid.uuid4().hex[:10],
            "txnstatus_request": {
                "reference_id": "status-1",
                "txn_type": txn_type,
                "attribute_type": attribute_type,
                "attribute_value": value,
            },
        },
    }


async def delivered(app, count: int = 1) -> bool:
    async with app.state.database.transaction() as session:
        rows = (await session.scalars(select(DciDelivery))).all()
    return sum(d.status == "delivered" for d in rows) >= count


async def test_async_search_is_acknowledged_then_answered_at_sender_uri(app, household):
    async with Receiver() as receiver:
        message = search_message(
            by_household_id(household.code, reference_id="r-1"), sender_uri=receiver.url()
        )
        async with client_for(app, DCI_CLIENT, audience="registry") as client:
            ack = await client.post("/dci/registry/search", json=message)
            assert ack.status_code == 200, ack.text
            assert ack.json()["message"]["ack_status"] == "ACK"
            correlation_id = ack.json()["message"]["correlation_id"]
            await wait_for(lambda: delivered(app), timeout=15)
            status = await client.post(
                "/dci/registry/sync/txn/status",
                json=status_request("transaction_id", message["message"]["transaction_id"]),
            )
    [callback] = receiver.received
    assert callback["path"] == "/callback/on-search"
    body = callback["body"]
    assert body["header"]["action"] == "on-search"
    assert body["header"]["status"] == "succ"
    assert body["message"]["correlation_id"] == correlation_id
    [item] = body["message"]["search_response"]
    assert item["reference_id"] == "r-1"
    assert codes_of(item) == [household.code]

    assert status.status_code == 200
    result = status.json()
    assert result["header"]["action"] == "txn-on-status"
    assert result["message"]["correlation_id"] == correlation_id
    response = result["message"]["txnstatus_response"]
    assert response["txn_type"] == "search"
    assert codes_of(response["txn_status"]["search_response"][0]) == [household.code]
    async with app.state.database.transaction() as session:
        delivery = await session.scalar(select(DciDelivery))
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)


async def test_a_failing_endpoint_gets_the_callback_again(app, household):
    async with Receiver(fail_first=1) as receiver:
        message = search_message(by_household_id(household.code), sender_uri=receiver.url())
        async with client_for(app, DCI_CLIENT, audience="registry") as client:
            await client.post("/dci/registry/search", json=message)
        await wait_for(lambda: delivered(app), timeout=20)
    assert receiver.attempts == 2
    async with app.state.database.transaction() as session:
        delivery = await session.scalar(select(DciDelivery))
    assert (delivery.status, delivery.attempts) == ("delivered", 2)


async def test_an_endpoint_refusing_for_good_is_not_retried(app, household):
    async with Receiver(fail_first=100, fail_status=400) as receiver:
        message = search_message(by_household_id(household.code), sender_uri=receiver.url())
        async with client_for(app, DCI_CLIENT, audience="registry") as client:
            await client.post("/dci/registry/search", json=message)

        async def failed():
            async with app.state.database.transaction() as session:
                delivery = await session.scalar(select(DciDelivery))
                return delivery is not None and delivery.status == "failed"

        await wait_for(failed, timeout=15)
    assert receiver.attempts == 1


async def test_status_of_a_pending_search_and_of_nothing(app, household):
    message = search_message(
        by_household_id(household.code, reference_id="pending-ref"),
        sender_uri="http://127.0.0.1:9/never",
    )
    # Accepted and asked about in one transaction, so no delivery worker has run it yet.
    async with app.state.database.transaction() as session:
        await service.accept_async_search(
            session,
            principal=DCI_CLIENT,
            body=message,
            callbacks=app.state.settings.dci_callbacks_for(DCI_CLIENT),
        )
        pending = await service.sync_transaction_status(
            session,
            principal=DCI_CLIENT,
            body=status_request("reference_id_list", ["pending-ref"]),
        )
        await session.rollback()
    async with client_for(app, DCI_CLIENT, audience="registry") as client:
        nothing = await client.post(
            "/dci/registry/sync/txn/status", json=status_request("transaction_id", "no-such")
        )
        bad = await client.post(
            "/dci/registry/sync/txn/status", json=status_request("colour", "red")
        )
    status = pending["message"]["txnstatus_response"]["txn_status"]
    assert status["search_response"][0]["reference_id"] == "pending-ref"
    assert status["search_response"][0]["status"] == "pdng"
    assert nothing.json()["header"]["status"] == "rjct"
    # Shaped as the standard's TxnStatusResponse all the same: never an empty list or id.
    answer = nothing.json()["message"]
    assert answer["transaction_id"] and answer["correlation_id"]
    assert answer["txnstatus_response"]["txn_type"] == "search"
    [missing] = answer["txnstatus_response"]["txn_status"]["search_response"]
    assert missing["status"] == "rjct"
    assert missing["status_reason_code"] == "rjct.reference_id.invalid"
    assert answer["txnstatus_response"]["txn_status"]["correlation_id"] == answer["correlation_id"]
    assert bad.status_code == 422
    assert bad.json()["errors"][1]["message"].startswith(
        "message.txnstatus_request.attribute_value: "
    )


@pytest.mark.parametrize(
    ("sender_uri", "error"),
    [
        (None, "err.sender_uri.invalid"),
        ("ftp://example.org/cb", "err.sender_uri.invalid"),
        ("http://user:pw@example.org/cb", "err.sender_uri.invalid"),
        ("file:///etc/passwd", "err.sender_uri.invalid"),
        # Not under the client's registered prefixes (http://127.0.0.1:*/ in these tests):
        ("http://10.0.0.5/cb", "err.sender_uri.invalid"),
        ("http://169.254.169.254/latest/meta-data", "err.sender_uri.invalid"),
        ("http://127.0.0.1.nip.io:8080/cb", "err.sender_uri.invalid"),
        ("https://127.0.0.1:8443/cb", "err.sender_uri.invalid"),
        ("http://127.0.0.1:8080/cb/%2e%2e/admin", "err.sender_uri.invalid"),
    ],
)
async def test_async_search_needs_an_http_callback(app, household, sender_uri, error):
    fields = {"sender_uri": sender_uri} if sender_uri else {}
    async with client_for(app, DCI_CLIENT, audience="registry") as client:
        ack = await client.post(
            "/dci/registry/search", json=search_message(by_household_id(household.code), **fields)
        )
    assert ack.status_code == 200
    assert ack.json()["message"]["ack_status"] == "ERR"
    assert ack.json()["message"]["error"]["code"] == error
    async with app.state.database.transaction() as session:
        assert (await session.scalars(select(DciTransaction))).all() == []


async def test_async_txn_status_answers_at_sender_uri(app, household):
    async with Receiver() as receiver:
        message = search_message(by_household_id(household.code), sender_uri=receiver.url())
        async with client_for(app, DCI_CLIENT, audience="registry") as client:
            await client.post("/dci/registry/search", json=message)
            await wait_for(lambda: receiver.received, timeout=15)
            ack = await client.post(
                "/dci/registry/txn/status",
                json=status_request(
                    "transaction_id",
                    message["message"]["transaction_id"],
                    sender_uri=receiver.url("/callback/txn/on-status"),
                ),
            )
            assert ack.json()["message"]["ack_status"] == "ACK"
            await wait_for(lambda: len(receiver.received) == 2, timeout=15)
    status = receiver.received[1]
    # The acknowledgement names the correlation id the callback carries.
    assert ack.json()["message"]["correlation_id"] == status["body"]["message"]["correlation_id"]
    assert (
        ack.json()["message"]["correlation_id"]
        == receiver.received[0]["body"]["message"]["correlation_id"]
    ), "the search's own correlation id"
    assert status["path"] == "/callback/txn/on-status"
    assert status["body"]["header"]["action"] == "txn-on-status"
    assert status["body"]["message"]["txnstatus_response"]["txn_type"] == "search"


async def test_a_death_notifies_member_subscribers_with_the_member_record(app, infrastructure):
    async with RegistryRows(infrastructure.database_url("registry")) as session:
        household = await make_household(session)
        head = household.head_member_id
    async with Receiver() as receiver:
        subscribe = subscribe_message(
            receiver,
            {
                "reg_event_type": "spdci:common:RegistryEventType:DEATH",
                "notify_record_type": "Member",
                "filter_type": "predicate",
                "filter": in_phnom_penh(),
            },
            reference_id="death-watch",
        )
        async with client_for(app, DCI_CLIENT, audience="registry") as client:
            ack = await client.post("/dci/registry/subscribe", json=subscribe)
            again = await client.post(
                "/dci/registry/subscribe",
                json={**subscribe, "header": {**subscribe["header"], "message_id": "other"}},
            )
        assert ack.json()["message"]["ack_status"] == "ACK"
        assert again.json()["message"]["ack_status"] == "ACK"
        async with app.state.database.transaction() as session:
            queued = await service.notify_subscribers(
                session,
                reg_event_type="DEATH",
                household_id=household.id,
                member_id=head,
                event_id="test/1",
                occurred_at=datetime.now(UTC),
            )
            repeated = await service.notify_subscribers(
                session,
                reg_event_type="DEATH",
                household_id=household.id,
                member_id=head,
                event_id="test/1",
                occurred_at=datetime.now(UTC),
            )
        assert (queued, repeated) == (1, 0)  # one subscription; the same event queues once
        await wait_for(
            lambda: any(r["path"] == "/cb/notify" for r in receiver.received), timeout=15
        )
    on_subscribe = [r["body"] for r in receiver.received if r["path"] == "/cb/on-subscribe"]
    codes = [
        a.get("status_reason_code")
        for body in on_subscribe
        for a in body["message"]["subscribe_response"]
    ]
    assert sorted(codes, key=str) == sorted([None, "rjct.event.already_subscribed"], key=str)
    [notify] = [r["body"] for r in receiver.received if r["path"] == "/cb/notify"]
    # Every callback carries a correlation id: a notify's is its subscription's code.
    assert notify["message"]["correlation_id"] == notify["header"]["meta"]["subscription_code"]
    data = notify["message"]["notify_event"][0]["data"]
    assert data["reg_event_type"] == "DEATH"
    assert data["reg_record_type"] == "Member"
    [record] = data["reg_records"]
    assert record["@id"] == f"urn:kh-sp:member:{head}"


@pytest.mark.registry_settings(
    dci_callback_urls={DCI_CLIENT.sub: ["http://127.0.0.1:*/"]},
    dci_client_keys={"service-account-no-callbacks": "unsigned"},
)
async def test_a_client_without_registered_callbacks_cannot_be_called_back(app, household):
    """Callbacks go only where REGISTRY_DCI_CALLBACK_URLS lets each client be called: a
    client with none is refused, also for subscriptions, even at an address another client
    may use; its synchronous search still works."""
    elsewhere = DCI_CLIENT.model_copy(update={"sub": "service-account-no-callbacks"})
    async with client_for(app, elsewhere, audience="registry") as client:
        search = await client.post(
            "/dci/registry/search",
            json=search_message(
                by_household_id(household.code), sender_uri="http://127.0.0.1:8080/cb"
            ),
        )
        subscribe = await client.post(
            "/dci/registry/subscribe",
            json={
                "signature": "",
                "header": header("subscribe", 1, sender_uri="http://127.0.0.1:8080/cb"),
                "message": {
                    "transaction_id": "t-sub",
                    "subscribe_request": [
                        {
                            "reference_id": "r-sub",
                            "timestamp": now(),
                            "subscribe_criteria": {
                                "version": "1.0.0",
                                "reg_type": "SocialRegistry",
                                "reg_event_type": "REGISTER",
                            },
                        }
                    ],
                },
            },
        )
        sync = await client.post(
            "/dci/registry/sync/search", json=search_message(by_household_id(household.code))
        )
    for ack in (search, subscribe):
        assert ack.status_code == 200, ack.text
        assert ack.json()["message"]["error"]["code"] == "err.sender_uri.invalid"
    assert sync.json()["message"]["search_response"][0]["status"] == "succ"
    async with app.state.database.transaction() as session:
        stored = (await session.scalars(select(DciTransaction))).all()
    assert [t.mode for t in stored] == ["sync"]
