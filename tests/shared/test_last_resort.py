"""An exception no handler knows is a 500 problem document that names nothing of the cause,
and its X-Request-ID is the id on the one logged traceback: what a caller reports finds the
log line (services built by create_service_app; the gateway's side: tests/gateway)."""

from __future__ import annotations

import httpx
from fastapi import APIRouter

from tests.harness import NATIONAL, internal_headers, json_log, running
from tests.shared.sample_app import app_with_routes

router = APIRouter()


@router.get("/broken")
async def broken() -> dict:
    raise RuntimeError("ledger row 4711 of Sok Dara is inconsistent")


async def test_an_unexpected_failure_is_a_500_whose_request_id_is_on_its_logged_traceback(
    infrastructure,
):
    app = app_with_routes(
        infrastructure.database_url("platform"), infrastructure.bootstrap_servers, [router]
    )
    async with running(app):
        with json_log("shared.problems", "sample") as logged:
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                response = await client.get("/broken", headers=internal_headers(NATIONAL, "sample"))
    assert response.status_code == 500, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "Sok Dara" not in response.text and "RuntimeError" not in response.text
    request_id = response.headers["x-request-id"]
    assert response.json()["request_id"] == request_id
    lines = logged.getvalue().splitlines()
    tracebacks = [line for line in lines if "unhandled error" in line]
    assert len(tracebacks) == 1, lines
    assert f'"request_id": "{request_id}"' in tracebacks[0]
    assert "ledger row 4711" in tracebacks[0]
