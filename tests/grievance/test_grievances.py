"""Staff intake, reading and the lifecycle of a grievance."""

from __future__ import annotations

import asyncio

import asyncpg

from shared.db.engine import asyncpg_dsn
from tests.grievance.conftest import act, intake, record
from tests.harness import (
    CP_PHNOM_PENH,
    DMK_SEN_SOK,
    GRIEVANCE_CP_BANTEAY_MEANCHEY,
    GRIEVANCE_CS_PHNOM_PENH_THMEI,
    GRIEVANCE_CS_TUEK_THLA,
    GRIEVANCE_DMK_SEN_SOK,
    GRIEVANCE_NATIONAL,
)


async def count_rows(infrastructure, table: str) -> int:
    conn = await asyncpg.connect(asyncpg_dsn(infrastructure.database_url("grievance")))
    try:
        return await conn.fetchval(f"SELECT count(*) FROM {table}")
    finally:
        await conn.close()


async def test_a_commune_records_a_grievance_routed_to_itself_with_a_tracking_code(service):
    async with service.client(GRIEVANCE_CS_PHNOM_PENH_THMEI) as client:
        created = await client.post("/grievances", json=intake())
    assert created.status_code == 201, created.text
    body = created.json()
    assert created.headers["etag"] == '"1"'
    assert body["status"] == "submitted"
    assert (body["handling_tier"], body["handling_admin_code"]) == ("cs", "120801")
    assert body["due_kind"] == "acknowledge"
    assert body["due_at"].startswith("2026-11-23T02:00")  # 48 hours at the commune
    assert len(body["tracking_code"]) == 12 and body["tracking_code"][3] == "-"
    assert body["complainant"]["name"] == "Sok Dara"
    assert body["sensitive"] is False


async def test_a_sensitive_grievance_starts_at_the_district_and_is_hidden_from_the_commune(
    service,
):
    async with service.client(GRIEVANCE_CS_PHNOM_PENH_THMEI) as commune:
        created = await record(commune, category="fraud_corruption")
        hidden = await commune.get(f"/grievances/{created['id']}")
        listed = await commune.get("/grievances")
    assert (created["handling_tier"], created["handling_admin_code"]) == ("dmk", "1208")
    assert created["sensitive"] is True
    # The commune that typed it in does not handle it, so it sees no identity either.
    assert created["complainant"] is None and created["tracking_code"] is None
    assert hidden.status_code == 404
    assert listed.json()["items"] == []
    async with service.client(GRIEVANCE_DMK_SEN_SOK) as district:
        seen = await district.get(f"/grievances/{created['id']}")
    assert seen.status_code == 200
    assert seen.json()["complainant"]["name"] == "Sok Dara"
    async with service.client(CP_PHNOM_PENH) as viewer:  # in the area, but no sensitive role
        assert (await viewer.get(f"/grievances/{created['id']}")).status_code == 404


async def test_complainant_identity_is_shown_only_to_the_handling_units_handlers(service):
    async with service.client(GRIEVANCE_CS_PHNOM_PENH_THMEI) as commune:
        created = await record(commune)
    async with service.client(GRIEVANCE_DMK_SEN_SOK) as district:
        seen = (await district.get(f"/grievances/{created['id']}")).json()
    assert seen["complainant"] is None
    assert seen["complainant_visible"] is False
    assert seen["tracking_code"] is None
    assert seen["description"]


async def test_the_whole_lifecycle_with_etags(service):
    async with service.client(GRIEVANCE_CS_PHNOM_PENH_THMEI) as client:
        created = await record(client)
        acknowledged = await act(client, created, "acknowledge", {"public_message": "Received."})
        assert acknowledged.status_code == 200, acknowledged.text
        assert acknowledged.headers["etag"] == '"2"'
        assert acknowledged.json()["due_kind"] == "resolve"
        started = await act(client, created, "start")
        assert started.json()["status"] == "in_progress"
        resolved = await act(
            client,
            created,
            "resolve",
            {"decision": "upheld", "resolution_summary": "Your household is added back."},
        )
        assert resolved.status_code == 200
        assert resolved.json()["decision"] == "upheld"
        assert resolved.json()["due_at"] is None
        assert resolved.json()["reopen_until"].startswith("2026-12-21")
        closed = await act(client, created, "close")
        assert closed.json()["status"] == "closed"
        timeline = (await client.get(f"/grievances/{created['id']}/timeline")).json()
    kinds = [e["kind"] for e in timeline["items"]]
    assert kinds == ["submitted", "acknowledged", "in_progress", "resolved", "closed"]


async def test_invalid_transitions_are_409_problems(service):
    async with service.client(GRIEVANCE_CS_PHNOM_PENH_THMEI) as client:
        created = await record(client)
        early = await act(
            client, created, "resolve", {"decision": "upheld", "resolution_summary": "x"}
        )
        close = await act(client, created, "close")
        rejected = await act(client, created, "reject", {"reason": "Not about social protection."})
        again = await act(client, created, "acknowledge")
    assert early.status_code == 409
    assert early.headers["content-type"].startswith("application/problem+json")
    assert early.json()["type"].endswith("invalid-transition")
    assert close.status_code == 409
    assert rejected.status_code == 200 and rejected.json()["rejection_reason"]
    assert again.status_code == 409


async def test_updates_need_if_match_and_a_stale_one_gets_412(service):
    async with service.client(GRIEVANCE_CS_PHNOM_PENH_THMEI) as client:
        created = await record(client)
        path = f"/grievances/{created['id']}/acknowledge"
        missing = await client.post(path, json={})
        stale = await client.post(path, json={}, headers={"If-Match": '"7"'})
    assert missing.status_code == 428
    assert stale.status_code == 412
    assert stale.json()["errors"][0]["field"] == "header.If-Match"


async def test_of_two_concurrent_updates_one_wins_and_the_other_gets_412(service):
    async with service.client(GRIEVANCE_CS_PHNOM_PENH_THMEI) as client:
        created = await record(client)
        path = f"/grievances/{created['id']}"
        headers = {"If-Match": '"1"'}
        first, second = await asyncio.gather(
            client.post(f"{path}/acknowledge", json={}, headers=headers),
            client.post(f"{path}/reject", json={"reason": "Duplicate."}, headers=headers),
        )
        final = (await client.get(path)).json()
    assert sorted([first.status_code, second.status_code]) == [200, 412]
    assert final["version"] == 2


async def test_manual_escalation_moves_one_tier_up_with_a_reason(service):
    async with service.client(GRIEVANCE_CS_PHNOM_PENH_THMEI) as commune:
        created = await record(commune)
        escalated = await act(commune, created, "escalate", {"reason": "Needs the district."})
        blank = await act(commune, created, "escalate", {"reason": "  "})
    assert escalated.status_code == 200
    assert (escalated.json()["handling_tier"], escalated.json()["handling_admin_code"]) == (
        "dmk",
        "1208",
    )
    assert escalated.json()["escalation_count"] == 1
    assert blank.status_code in (403, 422)  # no longer the commune's to change
    async with service.client(GRIEVANCE_NATIONAL) as national:
        timeline = (await national.get(f"/grievances/{created['id']}/timeline")).json()
    notes = [e for e in timeline["items"] if e["kind"] == "internal_note"]
    assert notes and "Needs the district." in notes[0]["text"] and notes[0]["public"] is False


async def test_escalation_stops_at_the_national_tier(service):
    async with service.client(GRIEVANCE_CS_PHNOM_PENH_THMEI) as commune:
        created = await record(commune)
    for principal in (GRIEVANCE_CS_PHNOM_PENH_THMEI, GRIEVANCE_DMK_SEN_SOK):
        async with service.client(principal) as client:
            assert (await act(client, created, "escalate", {"reason": "up"})).status_code == 200
    from tests.harness import GRIEVANCE_CP_PHNOM_PENH

    async with service.client(GRIEVANCE_CP_PHNOM_PENH) as province:
        assert (await act(province, created, "escalate", {"reason": "up"})).status_code == 200
    async with service.client(GRIEVANCE_NATIONAL) as national:
        top = await act(national, created, "escalate", {"reason": "up"})
    assert top.status_code == 409


async def test_invalid_input_is_a_problem_naming_the_field_and_nothing_is_written(
    service, infrastructure
):
    cases = [
        ({"location_code": "99999999"}, "location_code"),
        ({"location_code": "1208"}, "location_code"),
        ({"category": "gossip"}, "category"),
        ({"channel": "pigeon"}, "channel"),
        ({"description": ""}, "description"),
        ({"description": "x" * 4001}, "description"),
        ({"programme_code": "lower case"}, "programme_code"),
        ({"complainant": {"name": "A", "phone": "call me"}}, "complainant.phone"),
        ({"complainant": {"name": "A", "sex": "x"}}, "complainant.sex"),
        ({"anonymous": True}, "complainant"),
        ({"complainant": None}, "complainant"),
        ({"unexpected": 1}, "unexpected"),
        ({"member_id": "6d1c9a4e-8f57-4f5e-9d45-1f0c1e2b3a4c"}, "member_id"),
    ]
    async with service.client(GRIEVANCE_CS_PHNOM_PENH_THMEI) as client:
        for change, field in cases:
            response = await client.post("/grievances", json=intake(**change))
            assert response.status_code == 422, (change, response.text)
            assert response.headers["content-type"].startswith("application/problem+json")
            fields = [e["field"] for e in response.json()["errors"]]
            assert any(f == field or f.startswith(field) for f in fields), (change, fields)
        malformed = await client.post(
            "/grievances", content=b"{not json", headers={"content-type": "application/json"}
        )
        assert malformed.status_code == 400
        without_location = await client.post(
            "/grievances",
            json=intake(location_code=None, household_id="6d1c9a4e-8f57-4f5e-9d45-1f0c1e2b3a4c"),
        )
        assert without_location.status_code == 422
        assert without_location.json()["errors"][0]["field"] == "location_code"
    assert await count_rows(infrastructure, "grievance") == 0
    assert await count_rows(infrastructure, "outbox") == 0


async def test_a_create_is_idempotent_with_idempotency_key(service, infrastructure):
    headers = {"Idempotency-Key": "intake-7f3a"}
    async with service.client(GRIEVANCE_CS_PHNOM_PENH_THMEI) as client:
        first = await client.post("/grievances", json=intake(), headers=headers)
        second = await client.post("/grievances", json=intake(), headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert second.headers["idempotent-replayed"] == "true"
    assert await count_rows(infrastructure, "grievance") == 1


async def test_lists_are_cursor_paginated_and_filtered(service):
    async with service.client(GRIEVANCE_CS_PHNOM_PENH_THMEI) as client:
        for _ in range(3):
            service.clock.advance(minutes=1)
            await record(client)
        await record(client, category="suggestion")
        first = (await client.get("/grievances", params={"limit": 2})).json()
        second = (
            await client.get("/grievances", params={"limit": 2, "cursor": first["next_cursor"]})
        ).json()
        suggestions = (await client.get("/grievances", params={"category": "suggestion"})).json()
        bad_cursor = await client.get("/grievances", params={"cursor": "zzz"})
    assert len(first["items"]) == 2 and len(second["items"]) == 2
    assert second["next_cursor"] is None
    assert {g["id"] for g in first["items"]}.isdisjoint({g["id"] for g in second["items"]})
    assert [g["category"] for g in suggestions["items"]] == ["suggestion"]
    assert bad_cursor.status_code == 400


async def test_code_lists_have_khmer_and_english_labels(service):
    async with service.client(None) as client:
        english = await client.get("/code-lists/categories")
        khmer = await client.get("/code-lists/categories", headers={"Accept-Language": "km"})
        channels = await client.get("/code-lists/channels", headers={"Accept-Language": "km-KH"})
        unknown = await client.get("/code-lists/colours")
    assert english.json()["language"] == "en"
    labels = {i["code"]: i for i in khmer.json()["items"]}
    assert labels["fraud_corruption"]["label"] == "ការក្លែងបន្លំ ឬអំពើពុករលួយ"
    assert labels["fraud_corruption"]["sensitive"] is True
    assert khmer.headers["content-language"] == "km"
    assert channels.json()["language"] == "km"
    assert unknown.status_code == 422


async def test_a_handler_of_another_province_cannot_record_in_phnom_penh(service):
    async with service.client(GRIEVANCE_CP_BANTEAY_MEANCHEY) as client:
        response = await client.post("/grievances", json=intake())
    assert response.status_code == 403


async def test_a_sibling_commune_cannot_act_on_a_neighbours_grievance(service):
    async with service.client(GRIEVANCE_CS_PHNOM_PENH_THMEI) as commune:
        created = await record(commune)
    async with service.client(GRIEVANCE_CS_TUEK_THLA) as sibling:
        response = await sibling.post(
            f"/grievances/{created['id']}/acknowledge", json={}, headers={"If-Match": '"1"'}
        )
    assert response.status_code == 403


async def test_the_demo_seed_creates_grievances_once(service, infrastructure):
    from services.grievance.demo import seed

    lines = await seed(infrastructure.database_url("grievance"))
    again = await seed(infrastructure.database_url("grievance"))
    assert len(lines) == 1 and again == []
    assert lines[0].count("-") >= 8  # four codes shown as XXX-XXX-XXXX
    assert await count_rows(infrastructure, "grievance") == 4


async def test_a_grievance_submitted_and_changed_in_one_transaction_keeps_both(service):
    """The demo seed and consumers submit and act in one session: the inserted grievance
    must be an ordinary persistent row for the change that follows."""
    from services.grievance.grievances import service as grievances_service
    from services.grievance.grievances.schemas import GrievanceIntake

    database = service.app.state.database
    now = service.clock.now()
    async with database.transaction() as session:
        submitted = await grievances_service.submit(
            session,
            intake=GrievanceIntake.model_validate(intake()),
            channel="commune_office",
            location_code="12080102",
            household_id=None,
            member_id=None,
            submitted_by=GRIEVANCE_CS_PHNOM_PENH_THMEI.sub,
            now=now,
        )
        await grievances_service.acknowledge(
            session,
            principal=GRIEVANCE_CS_PHNOM_PENH_THMEI,
            grievance=submitted,
            public_message=None,
            now=now,
        )
    async with service.client(GRIEVANCE_CS_PHNOM_PENH_THMEI) as commune:
        seen = (await commune.get(f"/grievances/{submitted.id}")).json()
        timeline = (await commune.get(f"/grievances/{submitted.id}/timeline")).json()
    assert (seen["status"], seen["version"]) == ("acknowledged", 2)
    assert [e["kind"] for e in timeline["items"]] == ["submitted", "acknowledged"]


async def test_recording_a_grievance_needs_a_grievance_role(service):
    async with service.client(DMK_SEN_SOK) as registry_verifier:
        refused = await registry_verifier.post("/grievances", json=intake())
    assert refused.status_code == 403
    assert refused.json()["detail"] == "Recording grievances needs the role grievance.handler."
