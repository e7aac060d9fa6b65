"""What the budget service promises in its OpenAPI contract: every code a client sees has a
Khmer and an English label (in the document and at the public reference endpoint), and a
weight is a decimal string, as the document says, in and out."""

from __future__ import annotations

from tests.budget.conftest import NATIONAL_PLANNER, ok


async def test_the_code_lists_are_served_with_khmer_and_english_labels(service):
    async with service.client(None) as client:
        everything = await ok(await client.get("/reference/code-lists"))
        statuses = await client.get(
            "/reference/code-lists/support-request-statuses", headers={"Accept-Language": "km"}
        )
        unknown = await client.get("/reference/code-lists/no-such-list")
    names = {c["name"] for c in everything["code_lists"]}
    assert {"budget-lines", "support-request-types", "support-request-statuses",
            "allocation-run-statuses", "tiers", "levels", "on-zero-total"} <= names  # fmt: skip
    assert statuses.status_code == 200
    items = {i["code"]: i for i in statuses.json()["items"]}
    assert items["submitted"]["en"] == "Submitted"
    assert items["submitted"]["label"] == items["submitted"]["km"] == "បានដាក់ស្នើ"
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("application/problem+json")


async def test_the_document_labels_every_code_a_client_sends_or_receives(service):
    async with service.client(None) as client:
        document = await ok(await client.get("/openapi.json"))
    schemas = document["components"]["schemas"]
    status = schemas["SupportRequestRead"]["properties"]["status"]
    assert status["x-enum-labels"]["partly_approved"] == {
        "en": "Partly approved",
        "km": "បានអនុម័តមួយផ្នែក",
    }
    line = schemas["BudgetLineRead"]["properties"]["code"]
    assert line["x-enum-labels"]["isaf_activities"]["en"] == "I-SAF activities"
    weight = schemas["EqualShare"]["properties"]["weight"]
    assert weight["type"] == "string" and weight["examples"] == ["0.3"]


async def test_a_weight_is_a_decimal_string_and_comes_back_as_one(service):
    async with service.client(NATIONAL_PLANNER) as client:
        number = await client.post(
            "/formulas",
            json={"code": "HALVES", "name": "Halves",
                  "definition": {"components": [{"kind": "equal", "weight": 0.5},
                                                {"kind": "equal", "weight": "0.5"}]}},
        )  # fmt: skip
        stored = await client.post(
            "/formulas",
            json={"code": "HALVES", "name": "Halves",
                  "definition": {"components": [{"kind": "equal", "weight": "0.5"},
                                                {"kind": "poverty", "weight": ".5",
                                                 "poor_1_weight": "3"}]}},
        )  # fmt: skip
        read = await ok(await client.get("/formulas/HALVES/versions/1"))
    assert number.status_code == 422
    error = number.json()["errors"][0]
    assert error["field"] == "definition.components.0.equal.weight"
    assert "decimal string" in error["reason"]
    await ok(stored, 201)
    components = read["definition"]["components"]
    assert [c["weight"] for c in components] == ["0.5", "0.5"]
    assert components[1]["poor_1_weight"] == "3" and components[1]["poor_2_weight"] == "1"
