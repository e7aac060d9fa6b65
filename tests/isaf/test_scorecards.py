"""Scorecards: the offline sitting upload (idempotent, replaced under If-Match before
completion only, all or nothing), one vote per participant per indicator, medians by the
stated rule, and progress to a locked completion."""

from __future__ import annotations

import uuid

import asyncpg

from services.isaf.scorecards.service import median
from shared.db.engine import asyncpg_dsn
from tests.isaf.conftest import (
    CS_PHNOM_PENH_THMEI,
    CS_TUEK_THLA,
    DMK_SEN_SOK,
    NATIONAL,
    YEAR,
    cycle,
    facility,
    sitting,
)


async def setup(service):
    async with service.client(CS_PHNOM_PENH_THMEI) as client:
        c = await cycle(client)
        f = await facility(client)
    return c, f


async def count_rows(infrastructure, table: str) -> int:
    conn = await asyncpg.connect(asyncpg_dsn(infrastructure.database_url("isaf")))
    try:
        return await conn.fetchval(f"SELECT count(*) FROM {table}")
    finally:
        await conn.close()


def test_the_median_of_an_even_number_of_votes_is_the_mean_of_the_two_middle_votes():
    assert str(median([1, 2, 4, 5])) == "3.0"
    assert str(median([3, 4])) == "3.5"
    assert str(median([2, 2, 3, 5, 5])) == "3.0"
    assert median([]) is None


async def test_a_sitting_recorded_offline_is_stored_once_and_answers_what_the_server_holds(
    service, infrastructure
):
    c, f = await setup(service)
    scorecard_id = str(uuid.uuid4())
    document = sitting(c["id"], f["id"], scores=[4, 3, 5, 2])
    async with service.client(CS_PHNOM_PENH_THMEI) as client:
        first = await client.put(f"/scorecards/{scorecard_id}/sitting", json=document)
        assert first.status_code == 201, first.text
        held = first.json()
        assert held["id"] == scorecard_id and held["status"] == "in_progress"
        assert held["participants_total"] == 4 and held["participants_female"] == 2
        assert [i["median"] for i in held["indicators"]] == [3.5, 3.5]  # 2,3,4,5
        assert {p["id"] for p in held["participants"]} == {
            p["id"] for p in document["participants"]
        }
        assert len(held["votes"]) == 8
        again = await client.put(f"/scorecards/{scorecard_id}/sitting", json=document)
        assert again.status_code == 200
        assert again.headers["x-sitting-outcome"] == "unchanged"
        assert again.headers["etag"] == first.headers["etag"]
        assert again.json()["sitting_digest"] == held["sitting_digest"]
    assert await count_rows(infrastructure, "scorecard_vote") == 8
    assert await count_rows(infrastructure, "scorecard") == 1


async def test_a_corrected_sitting_replaces_the_stored_one_only_under_if_match(service):
    c, f = await setup(service)
    url = f"/scorecards/{uuid.uuid4()}/sitting"
    async with service.client(CS_PHNOM_PENH_THMEI) as client:
        first = await client.put(url, json=sitting(c["id"], f["id"], scores=[4, 3, 5]))
        corrected = sitting(c["id"], f["id"], scores=[1, 1, 5])
        assert (await client.put(url, json=corrected)).status_code == 428
        stale = await client.put(url, json=corrected, headers={"If-Match": '"99"'})
        assert stale.status_code == 412
        replaced = await client.put(
            url, json=corrected, headers={"If-Match": first.headers["etag"]}
        )
        assert replaced.status_code == 200, replaced.text
        assert replaced.headers["x-sitting-outcome"] == "replaced"
        assert [i["median"] for i in replaced.json()["indicators"]] == [1.0, 1.0]


async def test_a_completed_scorecard_is_locked(service, infrastructure):
    c, f = await setup(service)
    url = f"/scorecards/{uuid.uuid4()}"
    document = sitting(c["id"], f["id"])
    async with service.client(CS_PHNOM_PENH_THMEI) as client:
        uploaded = await client.put(f"{url}/sitting", json=document)
        etag = uploaded.headers["etag"]
        skip = await client.post(f"{url}/status", json={"status": "completed"},
                                 headers={"If-Match": etag})  # fmt: skip
        assert skip.status_code == 409 and skip.json()["errors"][0]["field"] == "status"
        for status in ("in_review", "completed"):
            response = await client.post(
                f"{url}/status", json={"status": status}, headers={"If-Match": etag}
            )
            assert response.status_code == 200, response.text
            etag = response.headers["etag"]
        assert response.json()["completed_at"] is not None
        # The same document again is still a no-op; a different one is refused.
        same = await client.put(f"{url}/sitting", json=document)
        assert same.status_code == 200 and same.headers["x-sitting-outcome"] == "unchanged"
        changed = sitting(c["id"], f["id"], scores=[1, 1, 1, 1])
        refused = await client.put(f"{url}/sitting", json=changed, headers={"If-Match": etag})
        assert refused.status_code == 409
        back = await client.post(f"{url}/status", json={"status": "in_progress"},
                                 headers={"If-Match": etag})  # fmt: skip
        assert back.status_code == 409
    conn = await asyncpg.connect(asyncpg_dsn(infrastructure.database_url("isaf")))
    try:
        events = await conn.fetch("SELECT topic, payload FROM outbox WHERE type LIKE '%scorecard%'")
    finally:
        await conn.close()
    assert [e["topic"] for e in events] == ["sp.isaf.scorecard"]
    assert '"median": 3.5' in events[0]["payload"]


async def test_bad_votes_are_refused_naming_the_field_and_nothing_is_stored(
    service, infrastructure
):
    c, f = await setup(service)
    url = f"/scorecards/{uuid.uuid4()}/sitting"
    async with service.client(CS_PHNOM_PENH_THMEI) as client:
        twice = sitting(c["id"], f["id"])
        twice["votes"].append(dict(twice["votes"][0], score=1))
        response = await client.put(url, json=twice)
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == f"votes.{len(twice['votes']) - 1}"
        assert "second vote" in response.json()["errors"][0]["reason"]

        out_of_scale = sitting(c["id"], f["id"])
        out_of_scale["votes"][3]["score"] = 6
        response = await client.put(url, json=out_of_scale)
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "votes.3.score"

        not_standard = sitting(c["id"], f["id"], codes=("PS01",))
        response = await client.put(url, json=not_standard)
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "indicators.0.code"

        last_year = sitting(c["id"], f["id"], held_on=f"{YEAR - 1}-12-30")
        response = await client.put(url, json=last_year)
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == "held_on"

        unselected = sitting(c["id"], f["id"])
        unselected["indicators"][0]["selected"] = False
        response = await client.put(url, json=unselected)
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"].endswith("indicator_id")
    for table in ("scorecard", "scorecard_participant", "scorecard_indicator", "scorecard_vote"):
        assert await count_rows(infrastructure, table) == 0, table


async def test_indicators_raised_by_participants_are_voted_beside_the_standard_ones(service):
    c, f = await setup(service)
    document = sitting(c["id"], f["id"], scores=[5, 4])
    raised = {"id": str(uuid.uuid4()), "source": "participant", "name_km": "ទឹកស្អាត",
              "selected": True}  # fmt: skip
    document["indicators"].append(raised)
    document["votes"] += [
        {"participant_id": p["id"], "indicator_id": raised["id"], "score": 2}
        for p in document["participants"]
    ]
    async with service.client(CS_PHNOM_PENH_THMEI) as client:
        response = await client.put(f"/scorecards/{uuid.uuid4()}/sitting", json=document)
    assert response.status_code == 201, response.text
    last = response.json()["indicators"][-1]
    assert last["source"] == "participant" and last["name_km"] == "ទឹកស្អាត"
    assert last["median"] == 2.0 and last["votes"] == 2


async def test_sittings_are_uploaded_and_read_only_inside_ones_area(service):
    c, f = await setup(service)
    scorecard_id = str(uuid.uuid4())
    document = sitting(c["id"], f["id"])
    async with service.client(CS_TUEK_THLA) as sibling:
        refused = await sibling.put(f"/scorecards/{scorecard_id}/sitting", json=document)
        assert refused.status_code == 403
    async with service.client(CS_PHNOM_PENH_THMEI) as client:
        await client.put(f"/scorecards/{scorecard_id}/sitting", json=document)
    async with service.client(CS_TUEK_THLA) as sibling:
        assert (await sibling.get(f"/scorecards/{scorecard_id}")).status_code == 404
        assert (await sibling.get("/scorecards")).json()["items"] == []
        again = await sibling.put(f"/scorecards/{scorecard_id}/sitting", json=document)
        assert again.status_code == 403
    for reader in (DMK_SEN_SOK, NATIONAL):
        async with service.client(reader) as client:
            assert (await client.get(f"/scorecards/{scorecard_id}")).status_code == 200


async def test_two_uploads_of_one_sitting_at_once_store_it_once(service, infrastructure):
    import asyncio

    c, f = await setup(service)
    url = f"/scorecards/{uuid.uuid4()}/sitting"
    document = sitting(c["id"], f["id"])
    async with (
        service.client(CS_PHNOM_PENH_THMEI) as one,
        service.client(CS_PHNOM_PENH_THMEI) as two,
    ):
        first, second = await asyncio.gather(
            one.put(url, json=document), two.put(url, json=document)
        )
    assert sorted([first.status_code, second.status_code]) == [200, 201]
    assert await count_rows(infrastructure, "scorecard_vote") == 8
