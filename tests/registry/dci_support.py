"""Shared pieces of the DCI tests: the registry app, machine-client principals, envelope
builders and a small HTTP receiver standing in for the client's callback endpoint."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web

from devstack.postgres import free_port
from shared.principal import Principal

DCI_CLIENT = Principal(
    sub="service-account-moh-health-equity",
    client=True,
    scopes=frozenset({"registry.dci.search", "registry.verification.read"}),
)
DCI_CLIENT_IN_PHNOM_PENH = Principal(
    sub="service-account-pp-social",
    client=True,
    scopes=frozenset({"registry.dci.search", "registry.dci.area.12"}),
)
CLIENT_WITHOUT_SCOPE = Principal(
    sub="service-account-partner", client=True, scopes=frozenset({"registry.verification.read"})
)


# The `app` fixture's settings for modules whose DCI clients are called back: the tests'
# receivers listen on this machine, on a free port each, which the registry refuses to call
# unless the client's callback URLs allow it.
ALLOW_TEST_CALLBACKS = pytest.mark.registry_settings(
    dci_callback_urls={
        DCI_CLIENT.sub: ["http://127.0.0.1:*/"],
        DCI_CLIENT_IN_PHNOM_PENH.sub: ["http://127.0.0.1:*/"],
    }
)


def now() -> str:
    return datetime.now(UTC).isoformat()


def header(action: str = "search", total_count: int = 1, **fields) -> dict[str, Any]:
    return {
        "version": "1.0.0",
        "message_id": str(uuid.uuid4()),
        "message_ts": now(),
        "action": action,
        "sender_id": "moh-health-equity",
        "receiver_id": "registry.sp.gov.kh",
        "total_count": total_count,
        "is_msg_encrypted": False,
        **fields,
    }


def search_item(
    query_type: str, query: Any, reference_id: str | None = None, **criteria
) -> dict[str, Any]:
    return {
        "reference_id": reference_id or uuid.uuid4().hex[:12],
        "timestamp": now(),
        "search_criteria": {
            "version": "1.0.0",
            "query_type": query_type,
            "query": query,
            **criteria,
        },
    }


def search_message(*items: dict[str, Any], **header_fields) -> dict[str, Any]:
    fields = {"action": "search", "total_count": len(items), **header_fields}
    return {
        "signature": "",
        "header": header(**fields),
        "message": {"transaction_id": uuid.uuid4().hex[:10], "search_request": list(items)},
    }


def by_household_id(code: str, **criteria) -> dict[str, Any]:
    return search_item("idtype-value", {"type": "HOUSEHOLD_ID", "value": code}, **criteria)


def expression(query: dict[str, Any], collection: str = "Group", **criteria) -> dict[str, Any]:
    return search_item(
        "expression",
        {
            "type": "ns:org:QueryType:NoSql",
            "value": {"expression": {"collection": collection, "query": query}},
        },
        **criteria,
    )


def subscribe_message(
    receiver: Receiver, criteria: dict[str, Any], *, reference_id: str = "sub-1"
) -> dict[str, Any]:
    """A subscribe request whose on-subscribe callback and notifications go to `receiver`
    (`/cb/on-subscribe` and `/cb/notify`)."""
    return {
        "signature": "",
        "header": header(
            "subscribe",
            1,
            sender_uri=receiver.url("/cb/on-subscribe"),
            meta={"notify_uri": receiver.url("/cb/notify")},
        ),
        "message": {
            "transaction_id": uuid.uuid4().hex[:10],
            "subscribe_request": [
                {"reference_id": reference_id, "timestamp": now(), "subscribe_criteria": criteria}
            ],
        },
    }


def in_phnom_penh() -> list[dict[str, Any]]:
    """A predicate filter: households in Phnom Penh (12)."""
    return [
        {
            "expression1": {
                "attribute_name": "location_code",
                "operator": "eq",
                "attribute_value": "12",
            }
        }
    ]


def codes_of(response_item: dict[str, Any]) -> list[str]:
    return [
        r["group_identifier"][0]["identifier_value"] for r in response_item["data"]["reg_records"]
    ]


class Receiver:
    """An HTTP endpoint on a free local port that records what is POSTed to it; it can be
    told to fail the first N requests."""

    def __init__(self, fail_first: int = 0, fail_status: int = 503) -> None:
        self.received: list[dict[str, Any]] = []
        self.attempts = 0
        self.fail_first = fail_first
        self.fail_status = fail_status
        self.port = free_port()
        self._runner: web.AppRunner | None = None
        self.arrived = asyncio.Event()

    def url(self, path: str = "/callback/on-search") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def _handle(self, request: web.Request) -> web.Response:
        self.attempts += 1
        if self.attempts <= self.fail_first:
            return web.json_response({"error": "not now"}, status=self.fail_status)
        body = await request.json()
        self.received.append({"path": request.path, "body": body})
        self.arrived.set()
        return web.json_response(
            {"message": {"ack_status": "ACK", "timestamp": now(), "correlation_id": "x"}}
        )

    async def __aenter__(self) -> Receiver:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def __aexit__(self, *exc) -> None:
        assert self._runner is not None
        await self._runner.cleanup()
