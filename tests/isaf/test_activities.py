"""Activities with participation and CAFs with trainings: counts that add up, dates inside
the cycle, phones masked by role, and each a problem naming the field with nothing stored."""

from __future__ import annotations

from tests.isaf.conftest import (
    CP_PHNOM_PENH,
    CS_PHNOM_PENH_THMEI,
    CS_TUEK_THLA,
    DMK_SEN_SOK,
    YEAR,
    activity,
    caf,
    cycle,
    participation,
)


async def test_an_activity_is_recorded_with_its_participants_and_facilitators(service):
    async with service.client(CS_PHNOM_PENH_THMEI) as client:
        c = await cycle(client)
        facilitator = await caf(client)
        recorded = await activity(
            client, c["id"], "door_to_door", facilitator_caf_ids=[facilitator["id"]],
            participants=participation(60, 35, 24, youth=12, idpoor=9), booklets=60,
        )  # fmt: skip
        assert recorded["participants"]["total"] == 60 and recorded["booklets"] == 60
        listed = (await client.get("/activities", params={"cycle_id": c["id"]})).json()
    assert [a["id"] for a in listed["items"]] == [recorded["id"]]


async def test_counts_that_do_not_add_up_are_refused_naming_the_field(service):
    async with service.client(CS_PHNOM_PENH_THMEI) as client:
        c = await cycle(client)
        cases = {
            "participants.female": participation(10, 8, 5),
            "participants.youth": participation(10, 5, 5, youth=11),
            "participants.idpoor": participation(10, 5, 5, idpoor=12),
        }
        for field, counts in cases.items():
            body = {"cycle_id": c["id"], "activity_type": "public_forum",
                    "held_on": f"{YEAR}-05-01", "venue": "Hall",
                    "participants": counts}  # fmt: skip
            response = await client.post("/activities", json=body)
            assert response.status_code == 422, field
            assert response.json()["errors"][0]["field"] == field
        negative = {"cycle_id": c["id"], "activity_type": "public_forum",
                    "held_on": f"{YEAR}-05-01", "venue": "Hall",
                    "participants": participation(10, -1, 5)}  # fmt: skip
        response = await client.post("/activities", json=negative)
        assert response.json()["errors"][0]["field"] == "participants.female"
        outside = {"cycle_id": c["id"], "activity_type": "public_forum",
                   "held_on": f"{YEAR + 1}-01-02", "venue": "Hall",
                   "participants": participation()}  # fmt: skip
        response = await client.post("/activities", json=outside)
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == "held_on"
        booklets = {"cycle_id": c["id"], "activity_type": "public_forum",
                    "held_on": f"{YEAR}-05-01", "venue": "Hall",
                    "participants": participation(), "booklets": 3}  # fmt: skip
        response = await client.post("/activities", json=booklets)
        assert response.json()["errors"][0]["field"] == "booklets"
        assert (await client.get("/activities")).json()["items"] == []


async def test_facilitators_are_cafs_of_the_cycles_area(service):
    async with service.client(CS_TUEK_THLA) as sibling:
        theirs = await caf(sibling, "120802")
    async with service.client(CS_PHNOM_PENH_THMEI) as client:
        c = await cycle(client)
        body = {"cycle_id": c["id"], "activity_type": "i4c_dissemination",
                "held_on": f"{YEAR}-03-01", "venue": "Hall", "participants": participation(),
                "facilitator_caf_ids": [theirs["id"]]}  # fmt: skip
        response = await client.post("/activities", json=body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "facilitator_caf_ids.0"


async def test_a_closed_cycle_takes_no_more_records(service):
    async with service.client(CS_PHNOM_PENH_THMEI) as client:
        c = await cycle(client)
        etag = f'"{c["version"]}"'
        for stage in ("scorecard", "interface_meeting", "jaap", "monitoring", "closed"):
            r = await client.post(f"/cycles/{c['id']}/stage", json={"stage": stage},
                                  headers={"If-Match": etag})  # fmt: skip
            etag = r.headers["etag"]
        body = {"cycle_id": c["id"], "activity_type": "i4c_dissemination",
                "held_on": f"{YEAR}-03-01", "venue": "Hall",
                "participants": participation()}  # fmt: skip
        response = await client.post("/activities", json=body)
    assert response.status_code == 409 and response.json()["errors"][0]["field"] == "cycle_id"


async def test_a_cafs_phone_is_masked_but_for_the_facilitators_who_work_with_them(service):
    async with service.client(CS_PHNOM_PENH_THMEI) as client:
        registered = await caf(client)
        assert registered["phone"] == "+855 12 345 678"
    async with service.client(DMK_SEN_SOK) as district:
        assert (await district.get(f"/cafs/{registered['id']}")).json()["phone_masked"] is False
    async with service.client(CP_PHNOM_PENH) as province:
        read = (await province.get(f"/cafs/{registered['id']}")).json()
        assert read["phone_masked"] is True and read["phone"] != "+855 12 345 678"
        assert read["phone"].endswith("78")
    async with service.client(CS_TUEK_THLA) as sibling:
        assert (await sibling.get(f"/cafs/{registered['id']}")).status_code == 404


async def test_trainings_count_cafs_and_their_attendees_must_add_up(service):
    async with service.client(DMK_SEN_SOK) as district:
        a = await caf(district, "120801")
        b = await caf(district, "120802", name="Chea Vuthy", sex="male")
        body = {"location_code": "1208", "audience": "caf", "topics": ["I-SAF process"],
                "starts_on": f"{YEAR}-02-10", "ends_on": f"{YEAR}-02-11", "venue": "Khan hall",
                "attendees_total": 20, "attendees_female": 12, "attendees_male": 8,
                "caf_ids": [a["id"], b["id"]]}  # fmt: skip
        response = await district.post("/trainings", json=body)
        assert response.status_code == 201, response.text
        wrong = dict(body, attendees_female=15)
        response = await district.post("/trainings", json=wrong)
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "attendees_female"
        backwards = dict(body, ends_on=f"{YEAR}-02-01")
        response = await district.post("/trainings", json=backwards)
        assert response.json()["errors"][0]["field"] == "ends_on"
        assert len((await district.get("/trainings")).json()["items"]) == 1
        assert (await district.get(f"/cafs/{a['id']}")).json()["trainings_attended"] == 1
    async with service.client(CS_PHNOM_PENH_THMEI) as commune:
        body = dict(body, location_code="120801", caf_ids=[b["id"]])
        response = await commune.post("/trainings", json=body)
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == "caf_ids.0"


async def test_a_retried_activity_with_its_idempotency_key_is_recorded_once(service):
    async with service.client(CS_PHNOM_PENH_THMEI) as client:
        c = await cycle(client)
        body = {"cycle_id": c["id"], "activity_type": "i4c_dissemination",
                "held_on": f"{YEAR}-03-01", "venue": "Hall",
                "participants": participation()}  # fmt: skip
        headers = {"Idempotency-Key": "tablet-7-activity-42"}
        first = await client.post("/activities", json=body, headers=headers)
        retry = await client.post("/activities", json=body, headers=headers)
        assert (first.status_code, retry.status_code) == (201, 201)
        assert retry.json()["id"] == first.json()["id"]
        assert retry.headers["idempotent-replayed"] == "true"
        assert len((await client.get("/activities")).json()["items"]) == 1
