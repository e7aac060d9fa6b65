"""The SLA scheduler escalates breached grievances one tier up, with an injected clock."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from services.grievance.sla.scheduler import SlaScheduler
from shared.db.engine import asyncpg_dsn
from shared.events.catalog.grievance import (
    GrievanceClosed,
    GrievanceEscalated,
    GrievanceSlaBreached,
)
from tests.grievance.conftest import act, record
from tests.harness import (
    GRIEVANCE_CS_PHNOM_PENH_THMEI,
    GRIEVANCE_DMK_SEN_SOK,
    GRIEVANCE_NATIONAL,
    envelopes,
    read_topic,
)


def scheduler(service, batch_size: int = 10_000) -> SlaScheduler:
    return SlaScheduler(service.app.state.database, service.clock, batch_size=batch_size)


async def test_an_unacknowledged_grievance_escalates_to_the_district_after_48_hours(service):
    async with service.client(GRIEVANCE_CS_PHNOM_PENH_THMEI) as commune:
        created = await record(commune)
    service.clock.advance(hours=47)
    assert (await scheduler(service).run_pass()).breached == 0
    service.clock.advance(hours=2)
    result = await scheduler(service).run_pass()
    assert (result.breached, result.escalated) == (1, 1)
    async with service.client(GRIEVANCE_DMK_SEN_SOK) as district:
        seen = (await district.get(f"/grievances/{created['id']}")).json()
        timeline = (await district.get(f"/grievances/{created['id']}/timeline")).json()
        overdue = (await district.get("/worklists/assigned")).json()
    assert (seen["handling_tier"], seen["handling_admin_code"]) == ("dmk", "1208")
    assert seen["status"] == "submitted" and seen["due_kind"] == "acknowledge"
    assert seen["version"] == 2 and seen["escalation_count"] == 1
    # One entry: the escalation, naming the deadline it breached.
    last = timeline["items"][-1]
    assert [e["kind"] for e in timeline["items"]] == ["submitted", "escalated"]
    assert last["details"]["automatic"] is True and last["details"]["deadline"] == "acknowledge"
    assert (last["details"]["from_tier"], last["details"]["to_tier"]) == ("cs", "dmk")
    assert [g["id"] for g in overdue["items"]] == [created["id"]]
    # The commune can no longer act on it; a stale ETag from before the escalation fails too.
    async with service.client(GRIEVANCE_CS_PHNOM_PENH_THMEI) as commune:
        late = await commune.post(
            f"/grievances/{created['id']}/acknowledge", json={}, headers={"If-Match": '"1"'}
        )
    assert late.status_code == 403


async def test_a_breach_of_the_resolution_deadline_escalates_keeping_the_state(service):
    async with service.client(GRIEVANCE_CS_PHNOM_PENH_THMEI) as commune:
        created = await record(commune)
        await act(commune, created, "acknowledge")
    service.clock.advance(days=16)
    await scheduler(service).run_pass()
    async with service.client(GRIEVANCE_DMK_SEN_SOK) as district:
        seen = (await district.get(f"/grievances/{created['id']}")).json()
    assert seen["status"] == "acknowledged"
    assert seen["due_kind"] == "resolve" and seen["handling_tier"] == "dmk"


async def test_at_the_national_tier_a_breach_is_recorded_without_escalation(service):
    async with service.client(GRIEVANCE_CS_PHNOM_PENH_THMEI) as commune:
        created = await record(commune)
    for _ in range(4):
        service.clock.advance(hours=80)
        await scheduler(service).run_pass()
    async with service.client(GRIEVANCE_NATIONAL) as national:
        seen = (await national.get(f"/grievances/{created['id']}")).json()
        overdue = (await national.get("/worklists/overdue")).json()
    assert seen["handling_tier"] == "national"
    assert seen["escalation_count"] == 3 and seen["sla_breach_count"] == 4
    assert seen["due_at"] is None
    assert [g["id"] for g in overdue["items"]] == [created["id"]]


async def test_batches_cover_everything_due_and_events_match_the_catalog(service, infrastructure):
    async with service.client(GRIEVANCE_CS_PHNOM_PENH_THMEI) as commune:
        ids = [(await record(commune))["id"] for _ in range(5)]
    service.clock.advance(hours=49)
    result = await scheduler(service, batch_size=2).run_pass()
    assert (result.breached, result.batches) == (5, 3)
    conn = await asyncpg.connect(asyncpg_dsn(infrastructure.database_url("grievance")))
    try:
        rows = await conn.fetch(
            "SELECT aggregate_id, type, payload::text AS payload FROM outbox "
            "WHERE type LIKE '%sla_breached%' OR type LIKE '%escalated%' ORDER BY seq"
        )
    finally:
        await conn.close()
    assert len(rows) == 10
    for row in rows:
        model = GrievanceSlaBreached if "sla_breached" in row["type"] else GrievanceEscalated
        event = model.model_validate_json(row["payload"])
        assert str(event.grievance_id) in ids
    escalated = GrievanceEscalated.model_validate_json(rows[1]["payload"])
    assert (escalated.from_tier, escalated.to_tier, escalated.to_admin_code) == (
        "cs",
        "dmk",
        "1208",
    )
    assert escalated.automatic and escalated.reason == "sla_breached:acknowledge"
    # Per grievance, the breach comes before its escalation.
    assert rows[0]["aggregate_id"] == rows[1]["aggregate_id"]
    assert "sla_breached" in rows[0]["type"]

    records = await read_topic(
        infrastructure.bootstrap_servers,
        "sp.grievance.grievance",
        until=lambda rs: (
            sum(
                1
                for e in envelopes(rs)
                if e.get("subject") in ids and e["type"].endswith("escalated.v1")
            )
            >= 5
        ),
    )
    published = [e for e in envelopes(records) if e.get("subject") in ids]
    assert {e["source"] for e in published} == {"/sp/grievance"}
    assert all(e["jurisdiction"] == "12080102" for e in published)


async def test_only_one_instance_runs_a_pass_at_a_time(service):
    first, second = scheduler(service), scheduler(service)
    async with service.app.state.database.engine.connect() as holder:
        from services.grievance.sla import repository

        assert await repository.try_lock(holder)
        assert await first.run_pass() is None
        await repository.unlock(holder)
    assert await second.run_pass() is not None


async def test_a_resolved_grievance_closes_itself_when_the_reopening_period_ends(
    service, infrastructure
):
    async with service.client(GRIEVANCE_CS_PHNOM_PENH_THMEI) as commune:
        created = await record(commune)
        await act(commune, created, "acknowledge")
        resolved = await act(commune, created, "resolve",
                             {"decision": "upheld", "resolution_summary": "Added."})  # fmt: skip
        still_open = await record(commune)
    assert resolved.json()["status"] == "resolved"
    reopen_days = service.app.state.settings.reopen_days
    service.clock.advance(days=reopen_days, hours=-1)
    assert (await scheduler(service).run_pass()).closed == 0
    service.clock.advance(hours=2)
    result = await scheduler(service).run_pass()
    assert result.closed == 1
    async with service.client(GRIEVANCE_CS_PHNOM_PENH_THMEI) as commune:
        seen = (await commune.get(f"/grievances/{created['id']}")).json()
        timeline = (await commune.get(f"/grievances/{created['id']}/timeline")).json()
        other = (await commune.get(f"/grievances/{still_open['id']}")).json()
    assert seen["status"] == "closed" and seen["decision"] == "upheld"
    assert datetime.fromisoformat(seen["closed_at"]) == service.clock.now()
    assert seen["version"] == resolved.json()["version"] + 1
    assert timeline["items"][-1]["kind"] == "closed"
    assert timeline["items"][-1]["actor"] == "system"
    assert timeline["items"][-1]["details"] == {"automatic": True}
    assert other["status"] != "closed"  # escalated on the way, never closed
    # The period is over: the complainant can no longer reopen it.
    async with service.client(None) as citizen:
        late = await citizen.post(
            f"/public/grievances/{created['tracking_code']}/reopen", json={"reason": "again"}
        )
    assert late.status_code == 409 and late.json()["type"].endswith("reopen-period-ended")
    # A second pass finds nothing more to close.
    assert (await scheduler(service).run_pass()).closed == 0

    conn = await asyncpg.connect(asyncpg_dsn(infrastructure.database_url("grievance")))
    try:
        rows = await conn.fetch(
            "SELECT payload::text AS payload FROM outbox WHERE type LIKE '%.closed.v%' "
            "AND aggregate_id = $1",
            created["id"],
        )
    finally:
        await conn.close()
    assert len(rows) == 1
    event = GrievanceClosed.model_validate_json(rows[0]["payload"])
    assert event.automatic and event.decision == "upheld"
    assert (event.handling_tier, event.handling_admin_code) == ("cs", "120801")
