"""Done when: through the gateway, a year of I-SAF for Khan Sen Sok's six sangkats, recorded
the way a CAF would; the reports reproduce what was recorded; the public view of a sangkat
shows results without personal data; a forum issue reaches the grievance service and comes
back with its tracking code (real broker, both consumers); the budget service's events fill
the public budget section; the events are on their topics."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from shared.clock import today
from shared.events.catalog.budget import AllocationPublished, UnitAmount
from shared.events.envelope import CloudEvent, encode
from tests.harness import envelopes, produce, read_topic, wait_for
from tests.isaf.conftest import participation, sitting

SANGKATS = ("120801", "120802", "120803", "120807", "120808", "120809")
CODES = {
    "commune_administration": ("CS01", "CS02"),
    "health_centre": ("HC01", "HC04"),
    "primary_school": ("PS01", "PS02"),
}


class Paced:
    """A client that, like a tablet syncing a backlog, waits when the gateway says 429 (the
    per-person rate limit) and tries again, instead of failing the day's work."""

    def __init__(self, client) -> None:
        self.client = client

    async def request(self, method: str, url: str, **kwargs):
        for _ in range(50):
            response = await self.client.request(method, url, **kwargs)
            if response.status_code != 429:
                return response
            await asyncio.sleep(float(response.headers.get("retry-after", "1")))
        return response

    async def post(self, url: str, **kwargs):
        return await self.request("POST", url, **kwargs)

    async def put(self, url: str, **kwargs):
        return await self.request("PUT", url, **kwargs)

    async def get(self, url: str, **kwargs):
        return await self.request("GET", url, **kwargs)


async def ok(response, *statuses: int) -> dict:
    assert response.status_code in (statuses or (200, 201)), response.text
    return response.json()


async def complete(client, url: str, etag: str) -> None:
    for status in ("in_review", "completed"):
        response = await client.post(f"{url}/status", json={"status": status},
                                      headers={"If-Match": etag})  # fmt: skip
        etag = response.headers["etag"]
        await ok(response)


async def record_the_year(district, year: int) -> dict:
    world: dict = {"cycles": {}, "facilities": {}, "cafs": []}
    for i, code in enumerate(SANGKATS):
        for sex in ("female", "male"):
            world["cafs"].append(await ok(await district.post("/isaf/cafs", json={
                "location_code": code, "name": f"CAF {code} {sex}", "sex": sex,
                "phone": f"+855 12 {i}00 0{len(sex)}", "local_ngo": "Star Kampuchea"}),
                201))  # fmt: skip
    for attendees in (world["cafs"], [c for c in world["cafs"] if c["sex"] == "female"]):
        await ok(await district.post("/isaf/trainings", json={
            "location_code": "1208", "audience": "caf", "topics": ["I-SAF", "Scorecards"],
            "starts_on": f"{year}-02-03", "ends_on": f"{year}-02-04", "venue": "Khan hall",
            "attendees_total": len(attendees),
            "attendees_female": sum(c["sex"] == "female" for c in attendees),
            "attendees_male": sum(c["sex"] == "male" for c in attendees),
            "caf_ids": [c["id"] for c in attendees]}), 201)  # fmt: skip
    for i, code in enumerate(SANGKATS):
        cycle = await ok(await district.post("/isaf/cycles", json={"location_code": code,
                                                              "year": year}), 201)  # fmt: skip
        world["cycles"][code] = cycle
        facilitators = [c["id"] for c in world["cafs"] if c["location_code"] == code]
        await ok(await district.post("/isaf/activities", json={
            "cycle_id": cycle["id"], "activity_type": "i4c_dissemination",
            "held_on": f"{year}-03-10", "venue": "Pagoda hall",
            "facilitator_caf_ids": facilitators,
            "participants": participation(40 + i, 20 + i, 20)}), 201)  # fmt: skip
        if i == 0:
            await ok(await district.post("/isaf/activities", json={
                "cycle_id": cycle["id"], "activity_type": "door_to_door",
                "held_on": f"{year}-03-12", "venue": "Phum 2", "booklets": 30,
                "participants": participation(30, 18, 12)}), 201)  # fmt: skip
        cards = []
        for facility_type, codes in CODES.items():
            facility = await ok(await district.post("/isaf/facilities", json={
                "location_code": code, "facility_type": facility_type,
                "name_km": f"{facility_type} {code}",
                "name_en": f"{facility_type} {code}"}), 201)  # fmt: skip
            world["facilities"][(code, facility_type)] = facility
            for kind, scores, sexes in (
                ("community", [4, 3, 5, 2], None),
                ("self_assessment", [5, 4, 4], ["female", "male", "female"]),
            ):
                document = sitting(cycle["id"], facility["id"], kind=kind, scores=scores,
                                   codes=codes, held_on=f"{year}-04-0{1 + i % 5}",
                                   sexes=sexes)  # fmt: skip
                url = f"/isaf/scorecards/{uuid.uuid4()}"
                # Recorded offline, uploaded twice when the connection came back: one copy.
                first = await district.put(f"{url}/sitting", json=document)
                again = await district.put(f"{url}/sitting", json=document)
                assert (first.status_code, again.status_code) == (201, 200)
                await complete(district, url, again.headers["etag"])
                cards.append((url, first.json()))
        meeting = await ok(await district.post("/isaf/activities", json={
            "cycle_id": cycle["id"], "activity_type": "interface_meeting",
            "held_on": f"{year}-06-02", "venue": "Sangkat hall",
            "participants": participation(30, 15, 15)}), 201)  # fmt: skip
        url, card = cards[2]  # the health centre's community scorecard
        jaap = await ok(await district.post("/isaf/jaaps", json={
            "cycle_id": cycle["id"], "adopted_on": f"{year}-06-02",
            "interface_meeting_id": meeting["id"],
            "actions": [
                {"description": "Post the fees at the gate", "scorecard_id": url.split("/")[-1],
                 "indicator_id": card["indicators"][0]["id"], "responsible_party": "HC chief",
                 "responsible_tier": "provider", "deadline": f"{year}-09-30"},
                {"description": "Buy a delivery bed", "responsible_party": "Sangkat council",
                 "responsible_tier": "cs", "deadline": f"{year}-12-31",
                 "budget_need_riel": 2_000_000},
            ]}), 201)  # fmt: skip
        first, second = jaap["actions"]
        await ok(await district.post(f"/isaf/jaap-actions/{first['id']}/status",
                                     headers={"If-Match": '"1"'},
                                     json={"status": "completed", "note": "Posted"}))  # fmt: skip
        change = ({"status": "dropped", "note": "No room", "reason": "No space for a bed"}
                  if i == 0 else {"status": "in_progress", "note": "Quotes asked"})  # fmt: skip
        await ok(await district.post(f"/isaf/jaap-actions/{second['id']}/status",
                                     headers={"If-Match": '"1"'}, json=change))  # fmt: skip
    return world


async def test_a_year_of_isaf_in_khan_sen_sok_through_the_gateway(
    platform, infrastructure, clean_databases
):
    year = today().year
    async with platform.client("dmk.sen-sok") as district:
        world = await record_the_year(Paced(district), year)
    # A public forum in Phnom Penh Thmei, recorded by the sangkat's own facilitator.
    async with platform.client("cs.phnom-penh-thmei") as commune:
        forum = await ok(await commune.post("/isaf/activities", json={
            "cycle_id": world["cycles"]["120801"]["id"], "activity_type": "public_forum",
            "held_on": f"{year}-08-15", "venue": "Sangkat hall",
            "participants": participation(60, 35, 25)}), 201)  # fmt: skip
        item = await ok(await commune.post("/isaf/forum-items", json={
            "activity_id": forum["id"], "kind": "issue", "place_code": "12080102",
            "text": "Mothers are asked to pay for deliveries at the health centre.",
            "answer": "The sangkat will raise it with the health centre."}), 201)  # fmt: skip
        sent = await commune.post(
            f"/isaf/forum-items/{item['id']}/send-to-grievance",
            json={"category": "service_quality_health_centre"},
            headers={"If-Match": f'"{item["version"]}"'},
        )
        await ok(sent)

        async def tracking_code():
            read = await commune.get(f"/isaf/forum-items/{item['id']}")
            return read.json()["grievance_tracking_code"]

        code = await wait_for(tracking_code, timeout=90, interval=0.5)
        grievances = await ok(await commune.get("/grievance/grievances",
                                                params={"channel": "public_forum"}))  # fmt: skip
        [grievance] = grievances["items"]
        assert grievance["tracking_code"] == code
    async with platform.client("anonymous", client_ip="203.0.113.61") as citizen:
        tracked = await citizen.get(f"/grievance/public/grievances/{code}")
        assert tracked.status_code == 200, tracked.text

    # The reports reproduce exactly what was recorded.
    async with platform.client("dmk.sen-sok") as district:
        summary = await ok(await district.get(
            "/isaf/reports/summary", params={"from_year": year, "to_year": year}))  # fmt: skip
    rows = {r["measure"]: r["total"] for r in summary["rows"]}
    assert rows == rows | {
        "i4c_disseminations": 6, "i4c_participants": 255, "i4c_women": 135,
        "door_to_door_rounds": 1, "door_to_door_people": 30, "booklets": 30,
        "scorecards": 18, "scorecard_participants": 72, "scorecard_women": 36,
        "self_assessments": 18, "self_assessment_providers": 54, "self_assessment_women": 36,
        "interface_meetings": 6, "interface_meeting_participants": 180,
        "interface_meeting_women": 90, "jaaps": 6, "public_forums": 1,
        "public_forum_participants": 60, "public_forum_women": 35, "cafs_trained": 12,
        "cafs_trained_women": 6, "actions_adopted": 12, "actions_completed": 6,
        "actions_dropped": 1, "completion_rate": 0.5,
    }  # fmt: skip

    # The budget service's allocation, published on the real broker, fills the public view.
    published = AllocationPublished(
        run_id=uuid.uuid4(), fiscal_year=year, line_code="isaf_activities",
        allocating_tier="dmk", allocating_admin_code="1208", formula_code="equal",
        formula_version=1, envelope_riel=6_000_000,
        units=[UnitAmount(admin_code=code, amount_riel=1_000_000) for code in SANGKATS],
        published_at=datetime.now(UTC),
    )  # fmt: skip
    await produce(
        infrastructure.bootstrap_servers, AllocationPublished.topic(),
        encode(CloudEvent(
            id=str(uuid.uuid4()), source="/sp/budget", type=AllocationPublished.event_type(),
            subject=str(published.run_id), time=datetime.now(UTC),
            dataschema=AllocationPublished.dataschema(), data=published.model_dump(mode="json"),
            jurisdiction="1208", sequence="00000000000000000001")),
        key=str(published.run_id).encode(),
    )  # fmt: skip
    async with platform.client("anonymous", client_ip="203.0.113.62") as citizen:

        async def budget():
            view = (await citizen.get("/isaf/public/communes/120801")).json()
            return view if view["budget"] else None

        view = await wait_for(budget, timeout=90, interval=0.5)
    assert view["budget"][0]["allocated_riel"] == 1_000_000
    assert len(view["facilities"]) == 3
    assert all(f["latest_scorecard"]["results"] for f in view["facilities"])
    assert view["jaaps"][0]["actions_completed"] == 1
    for caf in world["cafs"]:
        assert caf["name"] not in str(view) and caf["id"] not in str(view)

    # The events are on their topics.
    cycle_ids = {c["id"] for c in world["cycles"].values()}
    for topic, kind, expected in (
        ("sp.isaf.scorecard", "scorecard.completed", 36),
        ("sp.isaf.jaap", "jaap.adopted", 6),
        ("sp.isaf.jaap", "jaap.action_status_changed", 12),
        ("sp.isaf.activity", "activity.recorded", 6 + 1 + 6 + 1),
        ("sp.isaf.forum", "forum.issue_raised", 1),
        ("sp.isaf.cycle", "cycle.opened", 6),
    ):

        def ours(records, kind=kind):
            return [
                e for e in envelopes(records)
                if kind in e["type"] and (e["data"].get("cycle_id") in cycle_ids
                                          or e["data"].get("location_code", "").startswith("1208"))
            ]  # fmt: skip

        records = await read_topic(
            infrastructure.bootstrap_servers, topic,
            until=lambda r, ours=ours, expected=expected: len(ours(r)) >= expected, timeout=60,
        )  # fmt: skip
        assert len(ours(records)) >= expected, topic
