"""Issues raised at an I-SAF public forum become feedback with channel public_forum, once,
and the forum gets the tracking code back through grievance.forum_issue_logged."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime

import asyncpg

from services.grievance.grievances.forum_issues import log_forum_issue
from shared.consumer import ConsumerContext
from shared.db.engine import asyncpg_dsn
from shared.events.catalog.isaf import ForumIssueRaised
from tests.grievance.conftest import START
from tests.harness import GRIEVANCE_CS_PHNOM_PENH_THMEI, GRIEVANCE_CS_TUEK_THLA


def issue(**overrides) -> ForumIssueRaised:
    fields = {
        "forum_id": uuid.uuid4(), "issue_id": uuid.uuid4(), "cycle_id": uuid.uuid4(),
        "commune_code": "120801", "location_code": "12080102",
        "category": "service_quality_health_centre",
        "text": "Mothers are asked to pay for deliveries at the health centre.",
        "raised_on": date(2026, 11, 20), "raised_at": datetime(2026, 11, 20, 3, tzinfo=UTC),
    }  # fmt: skip
    return ForumIssueRaised(**{**fields, **overrides})


async def logged_events(infrastructure) -> list[dict]:
    conn = await asyncpg.connect(asyncpg_dsn(infrastructure.database_url("grievance")))
    try:
        rows = await conn.fetch(
            "SELECT topic, payload FROM outbox WHERE type LIKE '%forum_issue_logged%' ORDER BY seq"
        )
    finally:
        await conn.close()
    assert {r["topic"] for r in rows} <= {"sp.grievance.grievance"}
    return [json.loads(r["payload"]) for r in rows]


async def test_a_forum_issue_is_logged_once_as_public_forum_feedback(service, infrastructure):
    raised = issue()
    context = ConsumerContext(clock=service.clock)
    for _ in range(2):  # the same issue sent in a second event is not logged twice
        async with service.app.state.database.transaction() as session:
            await log_forum_issue(session, raised, None, context=context)
    events = await logged_events(infrastructure)
    assert len(events) == 2
    assert events[0]["tracking_code"] == events[1]["tracking_code"]
    assert events[0]["forum_issue_id"] == str(raised.issue_id)
    async with service.client(GRIEVANCE_CS_PHNOM_PENH_THMEI) as handler:
        listed = (await handler.get("/grievances")).json()["items"]
    [grievance] = listed
    assert grievance["channel"] == "public_forum" and grievance["anonymous"] is True
    assert grievance["category"] == "service_quality_health_centre"
    assert grievance["location_code"] == "12080102"
    assert grievance["handling_admin_code"] == "120801"
    assert grievance["submitted_at"].startswith(START.date().isoformat())
    async with service.client(GRIEVANCE_CS_TUEK_THLA) as sibling:
        assert (await sibling.get("/grievances")).json()["items"] == []


async def test_an_unknown_category_is_logged_as_other(service, infrastructure):
    async with service.app.state.database.transaction() as session:
        await log_forum_issue(
            session, issue(category="roads"), None, context=ConsumerContext(clock=service.clock)
        )
    [event] = await logged_events(infrastructure)
    assert event["category"] == "other"
