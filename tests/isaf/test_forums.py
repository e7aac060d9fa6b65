"""Public forums: questions and issues with their answers; an issue goes to the grievance
service once (isaf.forum.issue_raised) and its tracking code comes back onto it."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import asyncpg

from services.isaf.forums.consumer import tracking_code_arrived
from shared.db.engine import Database, asyncpg_dsn
from shared.events.catalog.grievance import GrievanceForumIssueLogged
from tests.isaf.conftest import CS_PHNOM_PENH_THMEI, CS_TUEK_THLA, DMK_SEN_SOK, activity, cycle


async def forum_with_items(service) -> dict:
    async with service.client(CS_PHNOM_PENH_THMEI) as client:
        c = await cycle(client)
        forum = await activity(client, c["id"], "public_forum", village_code="12080102")
        question = await client.post("/forum-items", json={
            "activity_id": forum["id"], "kind": "question",
            "text": "When is the next IDPoor round?", "answer": "In March."})  # fmt: skip
        issue = await client.post("/forum-items", json={
            "activity_id": forum["id"], "kind": "issue",
            "text": "The school asks for money for exams."})  # fmt: skip
        assert question.status_code == issue.status_code == 201
    return {"forum": forum, "question": question.json(), "issue": issue.json()}


async def test_an_issue_is_sent_once_and_its_tracking_code_comes_back(service, infrastructure):
    world = await forum_with_items(service)
    issue, question = world["issue"], world["question"]
    assert issue["place_code"] == "12080102"  # the forum's village by default
    async with service.client(CS_PHNOM_PENH_THMEI) as client:
        url = f"/forum-items/{issue['id']}/send-to-grievance"
        body = {"category": "service_quality_school"}
        sent = await client.post(url, json=body, headers={"If-Match": '"1"'})
        assert sent.status_code == 200, sent.text
        again = await client.post(url, json=body, headers={"If-Match": sent.headers["etag"]})
        assert again.status_code == 409
        not_an_issue = await client.post(
            f"/forum-items/{question['id']}/send-to-grievance", json=body,
            headers={"If-Match": '"1"'},
        )  # fmt: skip
        assert not_an_issue.status_code == 422
        assert not_an_issue.json()["errors"][0]["field"] == "kind"
        wrong_category = await client.post(
            f"/forum-items/{question['id']}/send-to-grievance", json={"category": "roads"},
            headers={"If-Match": '"1"'},
        )  # fmt: skip
        assert wrong_category.json()["errors"][0]["field"] == "category"
    conn = await asyncpg.connect(asyncpg_dsn(infrastructure.database_url("isaf")))
    try:
        rows = await conn.fetch(
            "SELECT topic, payload FROM outbox WHERE type LIKE '%forum.issue_raised%'"
        )
    finally:
        await conn.close()
    [row] = rows
    payload = json.loads(row["payload"])
    assert row["topic"] == "sp.isaf.forum"
    assert payload["issue_id"] == issue["id"] and payload["commune_code"] == "120801"
    assert payload["location_code"] == "12080102"

    # The code comes back on grievance.forum_issue_logged. It is delivered here by hand for an
    # issue of the same forum that never went out: the event sent above may really travel
    # (the session's platform processes share these databases), and the platform's grievance
    # service would then send back a code of its own for the first issue, at any moment.
    async with service.client(CS_PHNOM_PENH_THMEI) as client:
        other = await client.post("/forum-items", json={
            "activity_id": world["forum"]["id"], "kind": "issue",
            "text": "The clinic opens late."})  # fmt: skip
        assert other.status_code == 201, other.text
    unsent = other.json()
    logged = GrievanceForumIssueLogged(
        grievance_id=uuid.uuid4(), category="service_quality_school", location_code="12080102",
        handling_admin_code="120801", handling_tier="cs", forum_issue_id=unsent["id"],
        tracking_code="K7M-4QX-9PTA", logged_at=datetime.now(UTC),
    )  # fmt: skip
    database = Database(infrastructure.database_url("isaf"), pool_size=1)
    try:
        for _ in range(2):  # a redelivery changes nothing more
            async with database.transaction() as session:
                await tracking_code_arrived(session, logged, None)
    finally:
        await database.dispose()
    async with service.client(DMK_SEN_SOK) as district:
        read = (await district.get(f"/forum-items/{unsent['id']}")).json()
        sent_read = (await district.get(f"/forum-items/{issue['id']}")).json()
    assert read["grievance_tracking_code"] == "K7M-4QX-9PTA"
    assert sent_read["category"] == "service_quality_school"


async def test_answers_and_items_stay_inside_the_forums_area(service):
    world = await forum_with_items(service)
    question = world["question"]
    async with service.client(CS_TUEK_THLA) as sibling:
        assert (await sibling.get(f"/forum-items/{question['id']}")).status_code == 404
        refused = await sibling.post(
            f"/forum-items/{question['id']}/answer", json={"answer": "No"},
            headers={"If-Match": '"1"'},
        )  # fmt: skip
        assert refused.status_code == 403
        elsewhere = await sibling.post("/forum-items", json={
            "activity_id": world["forum"]["id"], "kind": "question", "text": "Why?"})  # fmt: skip
        assert elsewhere.status_code == 403
    async with service.client(CS_PHNOM_PENH_THMEI) as client:
        answered = await client.post(f"/forum-items/{question['id']}/answer",
                                     json={"answer": "In March, at the pagoda."},
                                     headers={"If-Match": '"1"'})  # fmt: skip
        assert answered.status_code == 200
        assert answered.json()["answer"] == "In March, at the pagoda."
        outside = await client.post("/forum-items", json={
            "activity_id": world["forum"]["id"], "kind": "issue", "text": "Road",
            "place_code": "12080201"})  # fmt: skip
        assert outside.status_code == 422
        assert outside.json()["errors"][0]["field"] == "place_code"
