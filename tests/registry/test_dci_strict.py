"""A strict DCI client reads every answer: messages are verified against the signing keys
registered for each client (unsigned only for a client registered so), errors come in the
standard's HttpErrorResponse, transaction status is a TxnStatusResponse in every case, and
every acknowledgement and callback carries a correlation_id."""

from __future__ import annotations

import base64
import time
import uuid

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select

from services.registry.dci.models import DciTransaction
from services.registry.dci.signatures import sign
from shared.principal import Principal
from tests.harness import client_for
from tests.registry.dci_support import (
    DCI_CLIENT,
    by_household_id,
    header,
    search_message,
)
from tests.registry.factories import RegistryRows, make_household

SYNC = "/dci/registry/sync/search"
ASYNC = "/dci/registry/search"
STATUS = "/dci/registry/sync/txn/status"

KEY = Ed25519PrivateKey.generate()
OTHER_KEY = Ed25519PrivateKey.generate()
SIGNING = Principal(
    sub="client:his-signing", client=True, scopes=frozenset({"registry.dci.search"})
)
UNREGISTERED = Principal(
    sub="client:nobody-registered", client=True, scopes=frozenset({"registry.dci.search"})
)


def raw_public(key: Ed25519PrivateKey) -> str:
    return base64.b64encode(
        key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    ).decode()


def pem_public(key: Ed25519PrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


pytestmark = pytest.mark.registry_settings(
    dci_client_keys={
        "his-signing": {"his-2026-1": raw_public(KEY), "his-2026-2": pem_public(OTHER_KEY)},
        DCI_CLIENT.sub: "unsigned",
    },
    dci_callback_urls={
        "his-signing": ["http://127.0.0.1:*/"],
        DCI_CLIENT.sub: ["http://127.0.0.1:*/"],
    },
)


def signed(body: dict, *, key=KEY, key_id="his-2026-1", created=None, expires=None) -> dict:
    created = created if created is not None else int(time.time()) - 5
    expires = expires if expires is not None else created + 600
    signature = sign(
        body["header"], body["message"], private_key=key, key_id=key_id,
        created=created, expires=expires,
    )  # fmt: skip
    return {**body, "signature": signature}


@pytest.fixture
async def household(infrastructure, clean_databases):
    async with RegistryRows(infrastructure.database_url("registry")) as session:
        return await make_household(session, status="active")


async def stored(app) -> int:
    async with app.state.database.transaction() as session:
        return await session.scalar(select(func.count()).select_from(DciTransaction))


async def post(app, principal, path, body):
    async with client_for(app, principal, audience="registry") as client:
        return await client.post(path, json=body)


def dci_error(response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    errors = response.json()["errors"]
    assert all(set(e) == {"code", "message"} for e in errors)
    assert errors[0]["code"] == code
    return errors[0]["message"]


# -- signatures ------------------------------------------------------------------------------


async def test_a_message_signed_with_a_registered_key_is_answered(app, household):
    for key, key_id in ((KEY, "his-2026-1"), (OTHER_KEY, "his-2026-2")):  # raw and PEM keys
        body = signed(search_message(by_household_id(household.code)), key=key, key_id=key_id)
        response = await post(app, SIGNING, SYNC, body)
        assert response.status_code == 200, response.text
        assert response.json()["message"]["search_response"][0]["status"] == "succ"
    assert await stored(app) == 2


@pytest.mark.parametrize(
    "tamper",
    ["changed message", "another key", "unknown key id", "expired", "from the future",
     "another sender", "garbled"],
)  # fmt: skip
async def test_a_bad_signature_is_refused_and_nothing_is_stored(app, household, tamper):
    body = search_message(by_household_id(household.code))
    now = int(time.time())
    if tamper == "changed message":
        body = signed(body)
        body["message"]["search_request"][0]["reference_id"] = "changed-after-signing"
    elif tamper == "another key":
        body = signed(body, key=OTHER_KEY, key_id="his-2026-1")
    elif tamper == "unknown key id":
        body = signed(body, key_id="his-2019-old")
    elif tamper == "expired":
        body = signed(body, created=now - 7200, expires=now - 3600)
    elif tamper == "from the future":
        body = signed(body, created=now + 3600, expires=now + 7200)
    elif tamper == "another sender":
        body = signed(body)
        body["header"]["sender_id"] = "someone-else"
    else:
        body = {**body, "signature": 'Signature: kidId="x", signature="not base64!"'}
    for path in (SYNC, ASYNC):
        if path == ASYNC:
            body["header"]["sender_uri"] = "http://127.0.0.1:9/cb"
        response = await post(app, SIGNING, path, body)
        dci_error(response, 401, "err.signature.invalid")
    assert await stored(app) == 0, "neither answered nor acknowledged"


async def test_a_client_that_must_sign_cannot_send_unsigned(app, household):
    response = await post(app, SIGNING, SYNC, search_message(by_household_id(household.code)))
    dci_error(response, 401, "err.signature.missing")
    assert await stored(app) == 0


async def test_only_a_client_registered_as_unsigned_may_omit_the_signature(app, household):
    unsigned = await post(app, DCI_CLIENT, SYNC, search_message(by_household_id(household.code)))
    assert unsigned.status_code == 200
    # ... and what it signs anyway cannot be verified, so it is refused rather than trusted.
    with_signature = signed(search_message(by_household_id(household.code)))
    dci_error(await post(app, DCI_CLIENT, SYNC, with_signature), 401, "err.signature.invalid")
    # A client registered neither way is refused whatever it sends.
    message = dci_error(
        await post(app, UNREGISTERED, SYNC, search_message(by_household_id(household.code))),
        401,
        "err.signature.invalid",
    )
    assert "registered" in message
    assert await stored(app) == 1


# -- errors in the standard's format ----------------------------------------------------------


async def test_errors_of_dci_routes_are_the_standards_http_error_response(app, household):
    no_scope = Principal(sub="client:x", client=True, scopes=frozenset({"other"}))
    body = search_message(by_household_id(household.code))
    dci_error(await post(app, no_scope, SYNC, body), 403, "err.request.forbidden")
    without_id = {**body, "header": {k: v for k, v in body["header"].items() if k != "message_id"}}
    invalid = await post(app, DCI_CLIENT, SYNC, without_id)
    dci_error(invalid, 422, "err.request.bad")
    assert any(e["message"].startswith("header.message_id: ") for e in invalid.json()["errors"])
    not_json = await post(app, DCI_CLIENT, SYNC, [1, 2])
    dci_error(not_json, 422, "err.request.bad")
    assert await stored(app) == 0


@pytest.mark.parametrize(
    ("caller", "method", "status", "code"),
    [
        ("anonymous", "POST", 401, "err.request.unauthorized"),
        ("client:partner-without-scope", "POST", 403, "err.request.forbidden"),
        ("client:moh-health-equity", "GET", 405, "err.request.bad"),
    ],
)
async def test_the_gateways_own_refusals_on_dci_routes_are_dci_errors(
    platform, caller, method, status, code
):
    async with platform.client(caller) as client:
        response = await client.request(
            method, "/registry/dci/registry/sync/search", json=search_message()
        )
    dci_error(response, status, code)
    if status == 405:
        assert response.headers["allow"] == "POST"


def test_the_openapi_documents_dci_errors_as_the_standard_does(app):
    operation = app.openapi()["paths"][SYNC]["post"]
    for status in ("401", "403", "422"):
        content = operation["responses"][status]["content"]
        assert list(content) == ["application/json"]
        assert content["application/json"]["schema"]["$ref"].endswith("/DciErrorDocument")


# -- transaction status and correlation ids ---------------------------------------------------


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


def assert_txn_status_shape(message: dict, txn_type: str) -> None:
    """The standard's TxnStatusResponse: required transaction_id, correlation_id and a
    txnstatus_response object whose txn_type is one the standard lists."""
    assert isinstance(message["transaction_id"], str) and message["transaction_id"]
    assert isinstance(message["correlation_id"], str) and message["correlation_id"]
    response = message["txnstatus_response"]
    assert isinstance(response, dict)
    assert response["txn_type"] == txn_type
    assert response["txn_type"] in ("search", "subscribe", "receipt")
    status = response["txn_status"]
    assert status["correlation_id"] and status["search_response"]
    for item in status["search_response"]:
        assert {"reference_id", "timestamp", "status"} <= set(item)


@pytest.mark.parametrize("txn_type", ["search", "subscribe", "unsubscribe"])
async def test_status_of_nothing_is_a_full_txn_status_response(app, txn_type):
    response = await post(
        app, DCI_CLIENT, STATUS, status_request("transaction_id", "none", txn_type)
    )
    body = response.json()
    assert body["header"]["status"] == "rjct"
    expected = "search" if txn_type == "search" else "subscribe"
    assert_txn_status_shape(body["message"], expected)


async def test_a_rejected_status_request_is_a_full_txn_status_response(app):
    response = await post(
        app, DCI_CLIENT, STATUS, status_request("transaction_id", "x", version="9.9.9")
    )
    body = response.json()
    assert body["header"]["status"] == "rjct"
    assert body["header"]["status_reason_code"] == "rjct.version.invalid"
    assert_txn_status_shape(body["message"], "search")


async def test_status_of_a_search_names_its_type_as_the_standard_does(app, household):
    search = await post(app, DCI_CLIENT, SYNC, search_message(by_household_id(household.code)))
    correlation_id = search.json()["message"]["correlation_id"]
    response = await post(app, DCI_CLIENT, STATUS, status_request("correlation_id", correlation_id))
    body = response.json()
    assert body["header"]["status"] == "succ"
    assert_txn_status_shape(body["message"], "search")
    assert body["message"]["correlation_id"] == correlation_id


async def test_every_acknowledgement_carries_a_correlation_id(app, household):
    accepted = await post(
        app,
        DCI_CLIENT,
        ASYNC,
        search_message(by_household_id(household.code), sender_uri="http://127.0.0.1:9/cb"),
    )
    refused = await post(
        app,
        DCI_CLIENT,
        ASYNC,
        search_message(by_household_id(household.code), sender_uri="http://10.0.0.1/cb"),
    )
    status = await post(
        app,
        DCI_CLIENT,
        "/dci/registry/txn/status",
        status_request("transaction_id", "none", sender_uri="http://127.0.0.1:9/cb"),
    )
    for ack, outcome in ((accepted, "ACK"), (refused, "ERR"), (status, "ACK")):
        message = ack.json()["message"]
        assert message["ack_status"] == outcome
        assert isinstance(message["correlation_id"], str) and message["correlation_id"]
    assert refused.json()["message"]["error"]["code"] == "err.sender_uri.invalid"
