"""What the budget service promises in its OpenAPI contract: every code a client sees has a
Khmer and an English label, amounts are whole riel, a weight is a decimal string (in and
out), and a reference to a record that does not exist is a 404 naming the field."""

from __future__ import annotations

from tests.budget.conftest import NATIONAL_PLANNER, PHNOM_PENH_THMEI, ok


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


async def test_a_whole_valued_number_is_an_amount_and_a_string_is_not(service):
    async with service.client(PHNOM_PENH_THMEI) as client:
        whole = await client.post(
            "/support-requests",
            json={"addressed_tier": "dmk", "request_type": "training_workshop",
                  "description": "Training of CAFs", "amount_riel": 2400000.0},
        )  # fmt: skip
        text = await client.post(
            "/support-requests",
            json={"addressed_tier": "dmk", "request_type": "training_workshop",
                  "description": "Training of CAFs", "amount_riel": "2400000"},
        )  # fmt: skip
    assert (await ok(whole, 201))["amount_riel"] == 2_400_000
    assert text.status_code == 422
    assert text.json()["errors"][0]["field"] == "amount_riel"


async def test_an_unopened_year_an_unknown_formula_or_run_is_not_found(service):
    async with service.client(NATIONAL_PLANNER) as client:
        no_year = await client.post(
            "/allocation-runs",
            json={"fiscal_year": 2099, "line_code": "social_assistance",
                  "formula_code": "COMMUNE_FUND_2024_2028"},
        )  # fmt: skip
        await ok(await client.post("/fiscal-years", json={"year": 2099}), 201)
        no_formula = await client.post(
            "/allocation-runs",
            json={"fiscal_year": 2099, "line_code": "social_assistance",
                  "formula_code": "NO_SUCH_FORMULA"},
        )  # fmt: skip
        no_envelope = await client.post(
            "/allocation-runs",
            json={"fiscal_year": 2099, "line_code": "social_assistance",
                  "formula_code": "COMMUNE_FUND_2024_2028"},
        )  # fmt: skip
        no_run = await client.post(
            "/releases",
            json={"run_id": "0b8e3c1e-2f4a-4d7e-9a51-6f0c2d1e8a90", "admin_code": "12",
                  "amount_riel": 5_000_000, "planned_on": str(service.clock.today())},
        )  # fmt: skip
    for response, field in ((no_year, "fiscal_year"), (no_formula, "formula_code"),
                            (no_envelope, "line_code"), (no_run, "run_id")):  # fmt: skip
        assert response.status_code == 404, response.text
        assert response.json()["errors"][0]["field"] == field
