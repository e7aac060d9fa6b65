"""Through the gateway with the real policy, against the platform's processes: the issue's
"done when" flow, the household read model, and who may call which grievance route."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from services.grievance.sla.scheduler import SlaScheduler
from shared.clock import ManualClock
from shared.db.engine import Database, asyncpg_dsn
from shared.events.catalog.grievance import GrievanceEscalated, GrievanceResolved
from shared.events.catalog.registry import HouseholdMoved, HouseholdRegistered
from shared.events.envelope import CloudEvent, encode, format_sequence
from tests.harness import envelopes, produce, read_topic, wait_for

TOPIC = "sp.grievance.grievance"


async def publish_household_event(infrastructure, event, household_id: uuid.UUID) -> str:
    """The event on its topic, as the registry's relay would send it; its CloudEvents id."""
    envelope = CloudEvent(
        id=str(uuid.uuid4()),
        source=event.source(),
        type=event.event_type(),
        subject=str(household_id),
        time=datetime.now(UTC),
        dataschema=event.dataschema(),
        data=event.model_dump(mode="json"),
        jurisdiction=event.village_code,
        sequence=format_sequence(1),
    )
    await produce(
        infrastructure.bootstrap_servers,
        event.topic(),
        encode(envelope),
        key=str(household_id).encode(),
    )
    return envelope.id


async def processed(infrastructure, event_id: str) -> bool:
    """The grievance service's consumer has handled the event (its inbox holds the id)."""
    conn = await asyncpg.connect(asyncpg_dsn(infrastructure.database_url("grievance")))
    try:
        return bool(await conn.fetchval("SELECT count(*) FROM inbox WHERE id = $1", event_id))
    finally:
        await conn.close()


async def household_row(infrastructure, household_id: uuid.UUID):
    conn = await asyncpg.connect(asyncpg_dsn(infrastructure.database_url("grievance")))
    try:
        return await conn.fetchrow(
            "SELECT * FROM household_location WHERE household_id = $1", household_id
        )
    finally:
        await conn.close()


async def registered_household(infrastructure, village_code: str) -> tuple[uuid.UUID, str]:
    household_id = uuid.uuid4()
    code = f"HH-{uuid.uuid4().hex[:8].upper()}"
    await publish_household_event(
        infrastructure,
        HouseholdRegistered(
            household_id=household_id,
            household_code=code,
            village_code=village_code,
            status="pending_verification",
            record_version=1,
            member_count=4,
        ),
        household_id,
    )

    async def known():
        return await household_row(infrastructure, household_id)

    await wait_for(known, timeout=30)
    return household_id, code


def events_about(records, grievance_id: str) -> list[dict]:
    return [e for e in envelopes(records) if e.get("subject") == grievance_id]


async def test_done_when_submit_track_acknowledge_escalate_resolve_report(platform, infrastructure):
    household_id, household_code = await registered_household(infrastructure, "12080102")

    # A citizen submits anonymously through the gateway and tracks by code.
    async with platform.client("anonymous", client_ip="203.0.113.51") as citizen:
        submitted = await citizen.post(
            "/grievance/public/grievances",
            json={
                "category": "exclusion_error",
                "description": "We are IDPoor 1 but the cash transfer stopped.",
                "location_code": "120801",
                "anonymous": True,
                "household_code": household_code,
            },
        )
        assert submitted.status_code == 201, submitted.text
        code = submitted.json()["tracking_code"]
        tracked = await citizen.get(f"/grievance/public/grievances/{code}")
    assert tracked.status_code == 200 and tracked.json()["status"] == "submitted"

    # The commune acknowledges.
    async with platform.client("cs.phnom-penh-thmei") as commune:
        queue = (await commune.get("/grievance/worklists/assigned")).json()["items"]
        grievance = next(g for g in queue if g["tracking_code"] == code)
        assert grievance["household_id"] == str(household_id)
        assert grievance["location_code"] == "12080102"
        acknowledged = await commune.post(
            f"/grievance/grievances/{grievance['id']}/acknowledge",
            json={"public_message": "We received your complaint."},
            headers={"If-Match": f'"{grievance["version"]}"'},
        )
        assert acknowledged.status_code == 200, acknowledged.text

    # Time passes beyond the commune's SLA: the scheduler escalates to the district.
    database = Database(infrastructure.database_url("grievance"))
    try:
        clock = ManualClock(datetime.now(UTC) + timedelta(days=16))
        scheduler = SlaScheduler(database, clock)

        async def escalated():
            result = await scheduler.run_pass()  # None while the platform's instance holds it
            return result is not None and result.escalated >= 1

        await wait_for(escalated, timeout=10)
    finally:
        await database.dispose()
    records = await read_topic(
        infrastructure.bootstrap_servers,
        TOPIC,
        until=lambda rs: any(
            e["type"].endswith(".escalated.v1") for e in events_about(rs, grievance["id"])
        ),
    )
    escalation = next(
        e for e in events_about(records, grievance["id"]) if e["type"].endswith(".escalated.v1")
    )
    assert escalation["type"] == GrievanceEscalated.event_type()
    event = GrievanceEscalated.model_validate(escalation["data"])
    assert (event.from_admin_code, event.to_admin_code, event.automatic) == ("120801", "1208", True)

    # The district resolves it as upheld: the registry's cue to open a reassessment case.
    async with platform.client("dmk.sen-sok") as district:
        current = await district.get(f"/grievance/grievances/{grievance['id']}")
        assert current.json()["handling_admin_code"] == "1208"
        resolved = await district.post(
            f"/grievance/grievances/{grievance['id']}/resolve",
            json={"decision": "upheld", "resolution_summary": "Re-enrolled from next month."},
            headers={"If-Match": current.headers["etag"]},
        )
        assert resolved.status_code == 200, resolved.text
        report = await district.get(
            "/grievance/reports/grievances",
            params={
                "from": (datetime.now(UTC) - timedelta(days=1)).date().isoformat(),
                "to": (datetime.now(UTC) + timedelta(days=1)).date().isoformat(),
                "location": "120801",
            },
        )
        csv_report = await district.get(
            "/grievance/reports/grievances",
            params={"from": "2026-01-01", "to": "2030-12-31", "format": "csv"},
        )
    records = await read_topic(
        infrastructure.bootstrap_servers,
        TOPIC,
        until=lambda rs: any(
            e["type"].endswith(".resolved.v1") for e in events_about(rs, grievance["id"])
        ),
    )
    resolved_envelope = next(
        e for e in events_about(records, grievance["id"]) if e["type"].endswith(".resolved.v1")
    )
    assert resolved_envelope["type"] == "kh.gov.sp.grievance.grievance.resolved.v1"
    assert resolved_envelope["source"] == "/sp/grievance"
    assert resolved_envelope["jurisdiction"] == "12080102"
    payload = GrievanceResolved.model_validate(resolved_envelope["data"])
    assert payload.reassessment_requested is True
    assert payload.household_id == household_id
    assert (payload.decision, payload.handling_tier, payload.handling_admin_code) == (
        "upheld",
        "dmk",
        "1208",
    )
    assert "complainant" not in json.dumps(resolved_envelope)

    # The report shows it.
    figures = report.json()
    assert figures["total"] >= 1 and figures["by_status"].get("resolved", 0) >= 1
    assert figures["escalated"] >= 1 and figures["by_category"]["exclusion_error"] >= 1
    assert csv_report.headers["content-type"].startswith("text/csv")
    assert "escalation_rate" in csv_report.text

    async with platform.client("anonymous", client_ip="203.0.113.51") as citizen:
        final = (await citizen.get(f"/grievance/public/grievances/{code}")).json()
    assert (final["status"], final["decision"]) == ("resolved", "upheld")
    assert [e["kind"] for e in final["timeline"]] == [
        "submitted",
        "acknowledged",
        "escalated",  # automatic: one entry naming the breached deadline
        "resolved",
    ]


async def test_the_read_model_follows_moves_and_ignores_stale_versions(platform, infrastructure):
    household_id, code = await registered_household(infrastructure, "12080204")
    moved = HouseholdMoved(
        household_id=household_id,
        household_code=code,
        village_code="12080102",
        status="active",
        record_version=3,
        from_village_code="12080204",
    )
    await publish_household_event(infrastructure, moved, household_id)

    async def moved_in():
        row = await household_row(infrastructure, household_id)
        return row is not None and row["village_code"] == "12080102"

    await wait_for(moved_in, timeout=30)
    # A late, older event (another id, so not a duplicate) does not move it back.
    late = HouseholdRegistered(
        household_id=household_id,
        household_code=code,
        village_code="12080204",
        status="pending_verification",
        record_version=1,
        member_count=4,
    )
    late_id = await publish_household_event(infrastructure, late, household_id)
    await wait_for(lambda: processed(infrastructure, late_id), timeout=30)
    row = await household_row(infrastructure, household_id)
    assert (row["village_code"], row["record_version"]) == ("12080102", 3)

    # Staff intake for the household needs no location: the household's commune handles it.
    async with platform.client("cs.phnom-penh-thmei") as commune:
        created = await commune.post(
            "/grievance/grievances",
            json={
                "channel": "commune_office",
                "category": "data_correction",
                "description": "The head's birth year is wrong.",
                "household_id": str(household_id),
                "anonymous": True,
            },
        )
    assert created.status_code == 201, created.text
    assert created.json()["location_code"] == "12080102"
    assert created.json()["handling_admin_code"] == "120801"


@pytest.mark.parametrize(
    ("caller", "method", "path", "expected"),
    [
        ("anonymous", "GET", "/grievance/grievances", 401),
        ("anonymous", "GET", "/grievance/worklists/assigned", 401),
        ("anonymous", "GET", "/grievance/reports/grievances?from=2026-01-01&to=2026-12-31", 401),
        ("anonymous", "GET", "/grievance/code-lists/categories", 200),
        ("anonymous", "GET", "/grievance/public/grievances/AAA-AAA-AAAA", 404),
        ("cs.phnom-penh-thmei", "GET", "/grievance/grievances", 200),
        ("cs.phnom-penh-thmei", "DELETE", "/grievance/grievances", 405),
        ("cp.banteay-meanchey", "GET", "/grievance/worklists/overdue", 200),
        ("client:moh-health-equity", "GET", "/grievance/grievances", 403),
    ],
)
async def test_the_policy_table_for_grievance_routes(platform, caller, method, path, expected):
    if caller.startswith("client:"):
        from gateway.identity.dev_issuer import CLIENTS

        if not any(c.client_id == caller.removeprefix("client:") for c in CLIENTS):
            pytest.skip("no such demo client")
    async with platform.client(caller, client_ip="203.0.113.60") as client:
        response = await client.request(method, path)
    assert response.status_code == expected, response.text


async def test_public_routes_are_rate_limited_per_ip_and_bodies_are_capped(platform):
    async with platform.client("anonymous", client_ip="203.0.113.70") as citizen:
        oversized = await citizen.post(
            "/grievance/public/grievances",
            content=b'{"description": "' + b"x" * 20000 + b'"}',
            headers={"content-type": "application/json"},
        )
        # Well past the burst, so that tokens refilled while a loaded machine sends them
        # cannot absorb the excess.
        statuses = [
            (await citizen.post("/grievance/public/grievances", json={})).status_code
            for _ in range(30)
        ]
    assert oversized.status_code == 413
    assert oversized.headers["content-type"].startswith("application/problem+json")
    assert 422 in statuses and 429 in statuses
