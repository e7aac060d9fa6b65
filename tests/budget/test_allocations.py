"""Allocation runs through the service: envelopes cascade down the tiers, each preview
explains every amount, the state machine and who may move it, bad input refused by name."""

from __future__ import annotations

from tests.budget.conftest import (
    BANTEAY_MEANCHEY,
    NATIONAL_APPROVER,
    NATIONAL_PLANNER,
    PHNOM_PENH_THMEI,
    PP_APPROVER,
    PP_PLANNER,
    SEN_SOK_PLANNER,
    YEAR,
    ok,
    open_year_with_envelope,
    publish,
    transition,
    upload_population,
)

LINE = "social_assistance"


def run_body(formula: str, **extra) -> dict:
    return {"fiscal_year": YEAR, "line_code": LINE, "formula_code": formula, **extra}


async def test_the_commune_fund_cascades_national_to_province_to_khan_to_sangkats(service):
    async with service.client(NATIONAL_PLANNER) as national:
        await open_year_with_envelope(national, amount=25_000_000_007)
        await upload_population(national, value=lambda code: int(code[-2:]) * 100 + 7)
    national_run = await publish(
        service, NATIONAL_PLANNER, NATIONAL_APPROVER, run_body("COMMUNE_FUND_2024_2028")
    )
    assert national_run["status"] == "published"
    assert national_run["unit_count"] == 25
    assert sum(u["amount_riel"] for u in national_run["units"]) == 25_000_000_007
    codes = [u["admin_code"] for u in national_run["units"]]
    assert codes[0] == "01" and "12" in codes  # leading zeros kept
    phnom_penh = next(u for u in national_run["units"] if u["admin_code"] == "12")

    province_run = await publish(
        service, PP_PLANNER, PP_APPROVER, run_body("COMMUNE_FUND_2024_2028")
    )
    assert province_run["envelope_riel"] == phnom_penh["amount_riel"]
    assert province_run["parent_run_id"] == national_run["id"]
    assert {u["admin_code"][:2] for u in province_run["units"]} == {"12"}
    assert sum(u["amount_riel"] for u in province_run["units"]) == phnom_penh["amount_riel"]
    sen_sok = next(u for u in province_run["units"] if u["admin_code"] == "1208")

    async with service.client(SEN_SOK_PLANNER) as district:
        preview = await ok(
            await district.post("/allocation-runs", json=run_body("COMMUNE_FUND_2024_2028")), 201
        )
    assert preview["status"] == "draft"
    assert preview["envelope_riel"] == sen_sok["amount_riel"]
    assert sum(u["amount_riel"] for u in preview["units"]) == sen_sok["amount_riel"]
    thmei = next(u for u in preview["units"] if u["admin_code"] == "120801")
    assert thmei["name_en"] == "Phnom Penh Thmei"
    assert [c["kind"] for c in thmei["components"]] == ["equal", "indicator", "indicator",
                                                         "per_sub_unit"]  # fmt: skip
    assert thmei["components"][1]["indicator"] == "dataset.population"
    assert thmei["components"][1]["value"] == 107  # 120801: "01" * 100 + 7
    villages = thmei["components"][2]["value"]
    assert villages == thmei["components"][3]["value"] > 0
    # Each component's share is its weight times the envelope times value / total.
    envelope = preview["envelope_riel"]
    population = thmei["components"][1]
    expected = 0.3 * envelope * population["value"] / population["total"]
    assert abs(float(population["share_riel"]) - expected) < 0.01
    assert abs(float(thmei["exact_riel"]) - thmei["amount_riel"]) < 1
    assert "lowest unit code" in preview["rounding_rule"]
    assert preview["provenance"]["dataset.population"]["source"] == "NIS census 2019"
    done = preview["progress"][-1]
    assert done["units_done"] == done["units_total"] == preview["unit_count"]

    async with service.client(SEN_SOK_PLANNER) as district:
        again = await ok(await district.get(f"/allocation-runs/{preview['id']}/recomputation"))
    assert again == {"run_id": preview["id"], "identical": True, "differences": {}}


async def test_the_approver_is_not_the_proposer(service):
    async with service.client(NATIONAL_PLANNER) as national:
        await open_year_with_envelope(national)
        run = await ok(await national.post("/allocation-runs", json=run_body("POVERTY_WEIGHTED",
                       formula_code="COMMUNE_FUND_2024_2028")), 422)  # fmt: skip
        assert run["errors"][0]["field"] == "formula"  # no population dataset uploaded
        equal = await ok(
            await national.post(
                "/formulas",
                json={"code": "EQUAL", "name": "Equal shares",
                      "definition": {"components": [{"kind": "equal", "weight": "1"}]}},
            ),
            201,
        )  # fmt: skip
        assert equal["version"] == 1
        run = await ok(await national.post("/allocation-runs", json=run_body("EQUAL")), 201)
        await ok(await transition(national, run, "propose"))
        own = await transition(national, run, "approve")
    assert own.status_code == 403
    assert own.json()["errors"][0]["field"] == "proposed_by"
    async with service.client(NATIONAL_APPROVER) as approver:
        early = await transition(approver, run, "publish")
        assert early.status_code == 409
        await ok(await transition(approver, run, "approve"))
        published = await ok(await transition(approver, run, "publish"))
    assert published["status"] == "published"
    async with service.client(NATIONAL_PLANNER) as national:
        fixed = await national.put(
            f"/fiscal-years/{YEAR}/envelopes/{LINE}", json={"amount_riel": 5}
        )
    assert fixed.status_code == 409


async def test_bad_input_is_refused_by_name_and_changes_nothing(service):
    async with service.client(NATIONAL_PLANNER) as national:
        await open_year_with_envelope(national)
        weights = await national.post(
            "/formulas",
            json={"code": "BAD", "name": "Bad",
                  "definition": {"components": [{"kind": "equal", "weight": "0.5"},
                                                {"kind": "equal", "weight": "0.4"}]}},
        )  # fmt: skip
        negative = await national.put(
            f"/fiscal-years/{YEAR}/envelopes/{LINE}", json={"amount_riel": -1}
        )
        zero = await national.post("/allocation-runs", json=run_body("POVERTY_WEIGHTED"))
        outside = await national.post(
            "/allocation-runs", json=run_body("POVERTY_WEIGHTED", units=["12", "1208"])
        )
        formulas = await ok(await national.get("/formulas"))
        runs = await ok(await national.get("/allocation-runs"))
    assert weights.status_code == 422
    assert weights.json()["errors"][0]["field"] == "definition.components"
    assert "sum to exactly 1" in weights.json()["errors"][0]["reason"]
    assert negative.status_code == 422 and negative.json()["errors"][0]["field"] == "amount_riel"
    # No household is registered: the poverty component sums to zero and is named.
    assert zero.status_code == 422
    assert zero.json()["errors"][0]["field"] == "formula.components.1"
    assert "sums to zero" in zero.json()["errors"][0]["reason"]
    assert outside.status_code == 422
    assert outside.json()["errors"][0]["field"] == "units.1"
    assert [f["code"] for f in formulas] == ["COMMUNE_FUND_2024_2028", "POVERTY_WEIGHTED"]
    assert runs["items"] == []


async def test_a_province_without_a_published_parent_allocation_has_no_envelope(service):
    async with service.client(NATIONAL_PLANNER) as national:
        await open_year_with_envelope(national)
    async with service.client(PP_PLANNER) as province:
        response = await province.post("/allocation-runs", json=run_body("COMMUNE_FUND_2024_2028"))
    assert response.status_code == 409


async def test_runs_are_read_in_the_allocating_area_and_moved_only_by_its_unit(service):
    async with service.client(NATIONAL_PLANNER) as national:
        await open_year_with_envelope(national)
        await upload_population(national)
    await publish(service, NATIONAL_PLANNER, NATIONAL_APPROVER, run_body("COMMUNE_FUND_2024_2028"))
    async with service.client(PP_PLANNER) as province:
        run = await ok(
            await province.post("/allocation-runs", json=run_body("COMMUNE_FUND_2024_2028")), 201
        )
    seen = {}
    for name, caller in {
        "own": PP_PLANNER, "child": SEN_SOK_PLANNER, "commune": PHNOM_PENH_THMEI,
        "other": BANTEAY_MEANCHEY, "national": NATIONAL_PLANNER,
    }.items():  # fmt: skip
        async with service.client(caller) as client:
            read = await client.get(f"/allocation-runs/{run['id']}")
            change = await client.post(
                f"/allocation-runs/{run['id']}/propose", headers={"If-Match": "*"}
            )
            seen[name] = (read.status_code, change.status_code)
    assert seen == {
        "own": (200, 200),
        "child": (404, 404),
        "commune": (404, 404),
        "other": (404, 404),
        "national": (200, 403),
    }


async def test_a_draft_of_an_envelope_changed_since_is_not_published(service):
    async with service.client(NATIONAL_PLANNER) as national:
        await open_year_with_envelope(national, amount=1_000)
        run = await ok(
            await national.post("/allocation-runs", json=run_body("COMMUNE_FUND_2024_2028",
                                formula_code="POVERTY_WEIGHTED", units=None)), 422
        )  # fmt: skip
        await ok(
            await national.post(
                "/formulas",
                json={"code": "EQUAL", "name": "Equal shares",
                      "definition": {"components": [{"kind": "equal", "weight": "1"}]}},
            ),
            201,
        )  # fmt: skip
        run = await ok(await national.post("/allocation-runs", json=run_body("EQUAL")), 201)
        await ok(await transition(national, run, "propose"))
        await ok(
            await national.put(f"/fiscal-years/{YEAR}/envelopes/{LINE}", json={"amount_riel": 2})
        )
    async with service.client(NATIONAL_APPROVER) as approver:
        await ok(await transition(approver, run, "approve"))
        stale = await transition(approver, run, "publish")
    assert stale.status_code == 409
    assert "changed since this run was drafted" in stale.json()["detail"]
