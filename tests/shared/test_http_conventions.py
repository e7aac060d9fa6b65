"""Problems, idempotent creates, ETags, cursor pages and the internal token, end to end."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from shared.db.platform_tables import outbox
from shared.principal import Principal
from tests.harness import (
    CP_BANTEAY_MEANCHEY,
    CS_PHNOM_PENH_THMEI,
    CS_TUEK_THLA,
    DMK_SEN_SOK,
    NATIONAL,
    client_for,
    running,
)
from tests.shared.sample_app import Note, create_sample_app

VILLAGE = "12080102"  # Poung Peay, Sangkat Phnom Penh Thmei, Khan Sen Sok
GOOD = {"title": "Roof repair", "priority": 2, "village_code": VILLAGE}


@pytest.fixture
async def app(infrastructure, clean_databases):
    app = create_sample_app(
        infrastructure.database_url("platform"), infrastructure.bootstrap_servers
    )
    async with running(app):
        async with app.state.database.engine.begin() as conn:
            await conn.run_sync(lambda c: Note.__table__.create(c, checkfirst=True))
            await conn.execute(Note.__table__.delete())
        yield app


def as_(app, principal: Principal | None):
    return client_for(app, principal, audience="sample")


async def count_rows(app) -> tuple[int, int]:
    async with app.state.database.transaction() as session:
        notes = (await session.execute(select(func.count()).select_from(Note))).scalar_one()
        events = (await session.execute(select(func.count()).select_from(outbox))).scalar_one()
    return notes, events


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["type"].startswith("urn:kh-sp:problem:")
    assert body["title"] and body["request_id"] == response.headers["x-request-id"]
    return body


# -- bad input -------------------------------------------------------------------------------


async def test_malformed_body_is_a_400_problem_and_writes_nothing(app):
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        response = await client.post(
            "/notes", content=b'{"title": "x",', headers={"content-type": "application/json"}
        )
    body = assert_problem(response, 400)
    assert body["errors"][0]["field"] == "body"
    assert "malformed JSON" in body["errors"][0]["reason"]
    assert await count_rows(app) == (0, 0)


async def test_a_field_of_the_wrong_type_is_named_and_nothing_is_written(app):
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        response = await client.post("/notes", json={**GOOD, "priority": "urgent"})
    body = assert_problem(response, 422)
    assert [e["field"] for e in body["errors"]] == ["priority"]
    assert body["errors"][0]["pointer"] == "#/priority"
    assert "integer" in body["errors"][0]["reason"]
    assert await count_rows(app) == (0, 0)


async def test_an_invalid_location_code_is_named_with_the_gazetteer_reason(app):
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        unknown = await client.post("/notes", json={**GOOD, "village_code": "12080199"})
        commune = await client.post("/notes", json={**GOOD, "village_code": "120801"})
    body = assert_problem(unknown, 422)
    assert body["errors"][0]["field"] == "village_code"
    assert "not a village in the NCDD gazetteer" in body["errors"][0]["reason"]
    body = assert_problem(commune, 422)
    assert "village code (8 digits) is required" in body["errors"][0]["reason"]
    assert await count_rows(app) == (0, 0)


async def test_an_unknown_field_is_refused(app):
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        response = await client.post("/notes", json={**GOOD, "colour": "red"})
    body = assert_problem(response, 422)
    assert body["errors"][0]["field"] == "colour"
    assert await count_rows(app) == (0, 0)


async def test_creating_outside_ones_jurisdiction_is_forbidden_and_writes_nothing(app):
    async with as_(app, CS_TUEK_THLA) as client:
        response = await client.post("/notes", json=GOOD)
    assert "outside your jurisdiction" in assert_problem(response, 403)["detail"]
    assert await count_rows(app) == (0, 0)


async def test_unknown_route_and_method_are_problems(app):
    async with as_(app, NATIONAL) as client:
        assert_problem(await client.get("/nowhere"), 404)
        assert_problem(await client.delete("/notes"), 405)


# -- the internal token ----------------------------------------------------------------------


async def test_a_request_without_the_gateways_token_is_401(app):
    async with as_(app, None) as client:
        listing = await client.get("/notes")
        unknown = await client.get("/no-such-route")
        creating = await client.post("/notes", json=GOOD)
        health = await client.get("/health")
    assert "through the gateway" in assert_problem(listing, 401)["detail"]
    assert_problem(unknown, 401)  # not even whether a route exists
    assert_problem(creating, 401)
    assert health.status_code == 200
    assert await count_rows(app) == (0, 0)


async def test_a_token_for_another_service_or_forged_is_401(app):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from shared.principal import InternalTokenSigner

    other_audience = client_for(app, NATIONAL, audience="budget")
    forger_key = (
        Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    forged = InternalTokenSigner(forger_key).sign(NATIONAL, audience="sample")
    async with other_audience as client:
        assert_problem(await client.get("/notes"), 401)
        assert_problem(await client.get("/notes", headers={"x-internal-token": forged}), 401)


# -- idempotency -----------------------------------------------------------------------------


async def test_idempotency_key_replay_returns_the_first_response(app):
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        first = await client.post("/notes", json=GOOD, headers={"Idempotency-Key": "k-1"})
        again = await client.post("/notes", json=GOOD, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["idempotent-replayed"] == "true"
    assert await count_rows(app) == (1, 1)


async def test_concurrent_retries_with_one_key_create_one_record(app):
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        responses = await asyncio.gather(
            *[
                client.post("/notes", json=GOOD, headers={"Idempotency-Key": "k-race"})
                for _ in range(5)
            ]
        )
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    assert await count_rows(app) == (1, 1)


async def test_a_key_reused_for_another_request_is_refused(app):
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        await client.post("/notes", json=GOOD, headers={"Idempotency-Key": "k-2"})
        other = await client.post(
            "/notes", json={**GOOD, "title": "Well"}, headers={"Idempotency-Key": "k-2"}
        )
    body = assert_problem(other, 422)
    assert body["errors"][0]["field"] == "header.Idempotency-Key"
    assert await count_rows(app) == (1, 1)


async def test_a_failed_create_does_not_burn_the_key(app):
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        refused = await client.post(
            "/notes", json={**GOOD, "village_code": "12080204"}, headers={"Idempotency-Key": "k-3"}
        )
        assert refused.status_code == 403
        fixed = await client.post(
            "/notes", json={**GOOD, "village_code": "12080204"}, headers={"Idempotency-Key": "k-3"}
        )
    assert fixed.status_code == 403, "the retry is evaluated again, not replayed"


# -- ETag / If-Match -------------------------------------------------------------------------


async def test_if_match_with_a_stale_version_gives_412(app):
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        created = (await client.post("/notes", json=GOOD)).json()
        url = f"/notes/{created['id']}"
        read = await client.get(url)
        assert read.headers["etag"] == '"1"'
        updated = await client.patch(url, json={"title": "New"}, headers={"If-Match": '"1"'})
        assert updated.status_code == 200 and updated.headers["etag"] == '"2"'
        stale = await client.patch(url, json={"title": "Lost"}, headers={"If-Match": '"1"'})
        missing = await client.patch(url, json={"title": "Lost"})
        final = await client.get(url)
    assert_problem(stale, 412)
    assert_problem(missing, 428)
    assert final.json()["title"] == "New"


async def test_concurrent_edits_exactly_one_wins(app):
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        created = (await client.post("/notes", json=GOOD)).json()
        url = f"/notes/{created['id']}"
        results = await asyncio.gather(
            *[
                client.patch(url, json={"title": f"edit {i}"}, headers={"If-Match": '"1"'})
                for i in range(4)
            ]
        )
        final = (await client.get(url)).json()
    statuses = sorted(r.status_code for r in results)
    assert statuses == [200, 412, 412, 412]
    winner = next(r for r in results if r.status_code == 200).json()
    assert final["title"] == winner["title"] and final["version"] == 2


# -- jurisdiction on reads and pages ---------------------------------------------------------


@pytest.mark.parametrize(
    ("principal", "visible"),
    [
        (CS_PHNOM_PENH_THMEI, True),
        (CS_TUEK_THLA, False),
        (DMK_SEN_SOK, True),
        (CP_BANTEAY_MEANCHEY, False),
        (NATIONAL, True),
    ],
)
async def test_reading_a_note_follows_jurisdiction(app, principal, visible):
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        created = (await client.post("/notes", json=GOOD)).json()
    async with as_(app, principal) as client:
        one = await client.get(f"/notes/{created['id']}")
        listed = await client.get("/notes")
    assert one.status_code == (200 if visible else 404)
    assert [n["id"] for n in listed.json()["items"]] == ([created["id"]] if visible else [])


async def test_cursor_pages_return_every_note_once(app):
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        for i in range(5):
            await client.post("/notes", json={**GOOD, "title": f"n{i}"})
        seen, cursor, pages = [], None, 0
        while True:
            params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            page = (await client.get("/notes", params=params)).json()
            seen += [n["title"] for n in page["items"]]
            pages += 1
            cursor = page["next_cursor"]
            if not cursor:
                break
        bad = await client.get("/notes", params={"cursor": "garbage!"})
        too_big = await client.get("/notes", params={"limit": 100000})
    assert seen == [f"n{i}" for i in range(5)] and pages == 3
    assert assert_problem(bad, 400)["errors"][0]["field"] == "query.cursor"
    assert assert_problem(too_big, 422)["errors"][0]["field"] == "query.limit"


# -- request context -------------------------------------------------------------------------


async def test_request_id_and_traceparent_are_propagated(app):
    incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        response = await client.post(
            "/notes",
            json=GOOD,
            headers={"X-Request-ID": "field-office-42", "traceparent": incoming},
        )
        generated = await client.get("/notes")
    assert response.headers["x-request-id"] == "field-office-42"
    assert response.headers["traceparent"].split("-")[1] == incoming.split("-")[1]
    assert len(generated.headers["x-request-id"]) == 32
    async with app.state.database.transaction() as session:
        recorded = (await session.execute(select(outbox.c.traceparent))).scalar_one()
    assert recorded == response.headers["traceparent"], "the event carries the request's trace"
