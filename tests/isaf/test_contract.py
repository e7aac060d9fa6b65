"""What the I-SAF document promises a client: every code with its Khmer and English label (in
the document and at `GET /reference/code-lists`), records naming a cycle or a forum that is not
there answered 404 naming the field, and the rules a generated client relies on (the cycle's
area, the phone, a report's years, the catalogue's versions) stated in the schema."""

from __future__ import annotations

import re
import uuid

from tests.isaf.conftest import CS_PHNOM_PENH_THMEI, YEAR, participation


async def test_every_isaf_code_list_is_served_with_khmer_and_english_labels(service):
    async with service.client(None) as citizen:
        every = await citizen.get("/reference/code-lists")
        stages = await citizen.get(
            "/reference/code-lists/stages", headers={"Accept-Language": "km"}
        )
        unknown = await citizen.get("/reference/code-lists/colours")
    assert every.status_code == 200
    names = {c["name"] for c in every.json()["code_lists"]}
    assert {"stages", "facility-types", "action-statuses", "support-request-types", "sex"} <= names
    for listed in every.json()["code_lists"]:
        assert all(item["en"].strip() and item["km"].strip() for item in listed["items"])
    body = stages.json()
    assert [i["code"] for i in body["items"]][:2] == ["i4c", "scorecard"]
    assert body["items"][0]["label"] == body["items"][0]["km"] == "ព័ត៌មានសម្រាប់ពលរដ្ឋ"
    assert unknown.status_code == 404


async def test_the_document_labels_every_enum_and_states_the_rules_of_its_inputs(service):
    async with service.client(None) as citizen:
        document = (await citizen.get("/openapi.json")).json()
    schemas = document["components"]["schemas"]
    assert schemas["Stage"]["x-enum-labels"]["jaap"]["km"] == "ផែនការសកម្មភាពគណនេយ្យភាពរួម"
    support = schemas["SupportRequestCreate"]["properties"]
    assert support["request_type"]["x-enum-labels"]["transport"]["en"] == "Transport"
    assert set(support["addressed_tier"]["x-enum-labels"]) == {"dmk", "cp"}
    area = schemas["CycleCreate"]["properties"]["location_code"]
    assert area["format"] == "ncdd-cycle-area" and re.fullmatch(area["pattern"], "1208")
    assert not re.fullmatch(area["pattern"], "12080102")
    phone = schemas["CafCreate"]["properties"]["phone"]["anyOf"][0]
    assert re.fullmatch(phone["pattern"], "+855 12 345 678") and phone["format"] == "kh-phone"
    versions = {
        p["name"]: p["schema"] for p in document["paths"]["/indicators"]["get"]["parameters"]
    }
    assert versions["version"]["anyOf"][0]["maximum"] == 1


async def test_records_naming_a_cycle_or_forum_that_is_not_there_answer_404(service):
    nowhere = str(uuid.uuid4())
    async with service.client(CS_PHNOM_PENH_THMEI) as client:
        activity = await client.post("/activities", json={
            "cycle_id": nowhere, "activity_type": "i4c_dissemination", "held_on": f"{YEAR}-03-10",
            "venue": "Pagoda hall", "participants": participation(),
        })  # fmt: skip
        jaap = await client.post("/jaaps", json={
            "cycle_id": nowhere, "adopted_on": f"{YEAR}-04-01", "actions": [{
                "description": "Post the fees", "responsible_party": "Chief",
                "responsible_tier": "provider", "deadline": f"{YEAR}-06-01"}],
        })  # fmt: skip
        forum_item = await client.post("/forum-items", json={
            "activity_id": nowhere, "kind": "question", "text": "When is the next payment?",
        })  # fmt: skip
        listed = (await client.get("/activities")).json()["items"]
    for response, field in (
        (activity, "cycle_id"),
        (jaap, "cycle_id"),
        (forum_item, "activity_id"),
    ):
        assert response.status_code == 404, response.text
        assert response.json()["errors"][0]["field"] == field
    assert listed == []
