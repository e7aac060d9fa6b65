"""What the database refuses or cannot do reaches the client as a problem it can act on: a
value the database will not store is 422 and a database out of reach is 503 with Retry-After,
never a 500 that the gateway's circuit breaker would count against the service."""

from __future__ import annotations

import httpx
from fastapi import APIRouter
from sqlalchemy import text

from devstack.postgres import free_port
from shared.db.session import SessionDep
from tests.harness import NATIONAL, internal_headers, running
from tests.shared.sample_app import app_with_routes

router = APIRouter()


@router.get("/cast")
async def cast(value: str, session: SessionDep) -> dict:
    return {
        "n": (
            await session.execute(text("SELECT CAST(CAST(:v AS text) AS smallint)"), {"v": value})
        ).scalar()
    }


@router.get("/now")
async def database_now(session: SessionDep) -> dict:
    return {"now": str((await session.execute(text("SELECT now()"))).scalar())}


def app_on(database_url: str, infrastructure):
    return app_with_routes(database_url, infrastructure.bootstrap_servers, [router])


async def get(app, url: str, **params) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.get(url, params=params, headers=internal_headers(NATIONAL, "sample"))


async def test_a_value_the_database_refuses_is_a_422_that_names_no_parameter(infrastructure):
    app = app_on(infrastructure.database_url("platform"), infrastructure)
    async with running(app):
        fine = await get(app, "/cast", value="12")
        too_big = await get(app, "/cast", value="99999999")
        not_a_number = await get(app, "/cast", value="Sok Dara 012345678")
    assert fine.json() == {"n": 12}
    for refused in (too_big, not_a_number):
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["type"].endswith("unstorable-value")
    # The statement's parameters (a citizen's name, a phone) never come back in the answer.
    assert "Sok Dara" not in not_a_number.text and "99999999" not in too_big.text


async def test_a_database_out_of_reach_is_a_503_with_retry_after(infrastructure):
    nowhere = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nothing"
    app = app_on(nowhere, infrastructure)
    async with running(app):
        response = await get(app, "/now")
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "5"
    assert response.json()["type"].endswith("database-unavailable")
