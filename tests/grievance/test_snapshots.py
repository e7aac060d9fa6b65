"""A late subscriber catches up on grievances: snapshot pages read while the commune works,
then `sp.grievance.grievance` from the snapshot's position; its read model equals the
grievance database exactly (real processes, broker and PostgreSQL of `platform`). And the
snapshot's access: national staff and clients holding the scope, sensitive ones by role."""

from __future__ import annotations

import asyncpg

from shared.db.engine import asyncpg_dsn
from shared.events.catalog.grievance import GrievanceEvent
from tests.harness import wait_for
from tests.registry.test_snapshots import end_offsets, events_from

TOPICS = [GrievanceEvent.topic()]
SNAPSHOT = "/grievance/snapshots/grievances"
STATUS_EVENTS = {
    "submitted", "acknowledged", "in_progress", "resolved", "closed", "rejected", "reopened"
}  # fmt: skip


class GrievanceReadModel:
    """What an integrator keeps from the snapshot and the events (GrievanceState's fields)."""

    def __init__(self) -> None:
        self.grievances: dict[str, dict] = {}

    def apply(self, envelope: dict) -> None:
        data, kind = envelope["data"], envelope["type"].split(".")[-2]
        grievance = self.grievances.setdefault(
            data["grievance_id"],
            {"decision": None, "household_id": None, "member_id": None, "rating": None},
        )
        grievance.update(
            grievance_id=data["grievance_id"],
            category=data["category"],
            location_code=data["location_code"],
            handling_tier=data["handling_tier"],
            handling_admin_code=data["handling_admin_code"],
        )
        if kind in STATUS_EVENTS:
            grievance["status"] = kind
        if kind == "submitted":
            grievance["reopen_count"] = 0
        if kind in ("submitted", "household_linked", "resolved"):
            grievance["household_id"], grievance["member_id"] = (
                data["household_id"],
                data["member_id"],
            )
        if kind in ("resolved", "closed"):
            grievance["decision"] = data["decision"]
        if kind == "reopened":
            grievance["reopen_count"] = data["reopen_count"]
        if kind == "rated":
            grievance["rating"] = data["rating"]


async def grievance_rows(infrastructure) -> dict[str, dict]:
    connection = await asyncpg.connect(asyncpg_dsn(infrastructure.database_url("grievance")))
    # One snapshot for the three reads: an event published between two of them would be
    # neither pending nor among the published ids, and the replay would silently miss it.
    try:
        async with connection.transaction(isolation="repeatable_read", readonly=True):
            rows = await connection.fetch(
                "SELECT id::text AS grievance_id, category, location_code, handling_tier, "
                "handling_admin_code, status, decision, household_id::text AS household_id, "
                "member_id::text AS member_id, reopen_count, rating FROM grievance"
            )
            ids = await connection.fetch(
                "SELECT id::text FROM outbox WHERE topic = $1 AND published_at IS NOT NULL",
                TOPICS[0],
            )
            pending = await connection.fetchval(
                "SELECT count(*) FROM outbox WHERE published_at IS NULL"
            )
    finally:
        await connection.close()
    return {
        "rows": {r["grievance_id"]: dict(r) for r in rows},
        "published": {r["id"] for r in ids},
        "pending": pending,
    }


async def intake(commune, category: str = "exclusion_error") -> dict:
    created = await commune.post(
        "/grievance/grievances",
        json={
            "channel": "commune_office",
            "category": category,
            "description": "Left out of the family package.",
            "location_code": "120801",
            "anonymous": True,
        },
    )
    assert created.status_code == 201, created.text
    return created.json()


async def step(handler, grievance_id: str, action: str, body: dict) -> None:
    current = await handler.get(f"/grievance/grievances/{grievance_id}")
    done = await handler.post(
        f"/grievance/grievances/{grievance_id}/{action}",
        json=body,
        headers={"If-Match": current.headers["etag"]},
    )
    assert done.status_code == 200, done.text


async def test_a_new_subscriber_rebuilds_grievances_from_snapshot_and_topic_exactly(
    platform, infrastructure, clean_databases
):
    start = await end_offsets(infrastructure.bootstrap_servers, TOPICS)
    async with (
        platform.client("cs.phnom-penh-thmei") as commune,
        platform.client("client:sp-read-model") as subscriber,
    ):
        made = [await intake(commune) for _ in range(4)]
        model, positions, cursor, pages = GrievanceReadModel(), [], None, 0
        while True:
            params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            response = await subscriber.get(SNAPSHOT, params=params)
            assert response.status_code == 200, response.text
            page = response.json()
            assert page["topics"] == TOPICS
            positions.append(page["position"])
            for state in page["items"]:
                model.grievances[state["grievance_id"]] = dict(state)
            pages += 1
            if pages == 1:  # the commune works between the pages
                for grievance in made[:2]:
                    await step(commune, grievance["id"], "acknowledge", {"public_message": "Seen."})
                await intake(commune)
            cursor = page["next_cursor"]
            if cursor is None:
                break
        await step(
            commune,
            made[0]["id"],
            "resolve",
            {"decision": "not_upheld", "resolution_summary": "The household was not eligible."},
        )
        await step(commune, made[3]["id"], "reject", {"reason": "Not about social protection."})

    async def everything_published() -> dict | None:
        state = await grievance_rows(infrastructure)
        return state if state["pending"] == 0 else None

    state = await wait_for(everything_published, timeout=60)
    found = await events_from(
        infrastructure.bootstrap_servers, start, until=state["published"], topics=TOPICS
    )
    position = min(positions)
    # Only this database's events: the shared broker also carries late publications of
    # earlier tests, whose outboxes were emptied and numbered again from 1.
    replay = sorted(
        (e for e in found.values() if e["sequence"] > position and e["id"] in state["published"]),
        key=lambda e: e["sequence"],
    )
    assert replay, "events came after the snapshot's position"
    for event in replay:
        model.apply(event)
    assert model.grievances == state["rows"]


async def test_the_grievance_snapshot_is_for_national_staff_and_clients_with_the_scope(
    platform, clean_databases
):
    async with platform.client("cs.phnom-penh-thmei") as commune:
        await intake(commune)
    answers = {}
    for caller in (
        "national.officer",
        "client:sp-read-model",
        "dmk.sen-sok",
        "client:moh-health-equity",
        "anonymous",
    ):
        async with platform.client(caller) as client:
            response = await client.get(SNAPSHOT)
        answers[caller] = response.status_code
        if response.status_code == 200:
            [item] = response.json()["items"]
            assert "tracking_code" not in item and "description" not in item
    assert answers == {
        "national.officer": 200,
        "client:sp-read-model": 200,
        "dmk.sen-sok": 403,
        "client:moh-health-equity": 403,
        "anonymous": 401,
    }
