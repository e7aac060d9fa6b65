"""Releases in tranches, spending against them, delays and execution: refused beyond what
was allocated or released (naming the amounts), reported per unit and tier, disclosed to the
public; every figure sums to its parent's."""

from __future__ import annotations

from datetime import timedelta

from tests.budget.conftest import (
    NATIONAL_APPROVER,
    NATIONAL_PLANNER,
    PHNOM_PENH_THMEI,
    PP_APPROVER,
    PP_PLANNER,
    SEN_SOK_APPROVER,
    SEN_SOK_PLANNER,
    TUEK_THLA,
    YEAR,
    ok,
    open_year_with_envelope,
    publish,
    upload_population,
)

LINE = "social_assistance"
FUND = {"fiscal_year": YEAR, "line_code": LINE, "formula_code": "COMMUNE_FUND_2024_2028"}


async def cascade(service) -> dict:
    async with service.client(NATIONAL_PLANNER) as national:
        await open_year_with_envelope(national, amount=25_000_000_000)
        await upload_population(national)
    runs = {"national": await publish(service, NATIONAL_PLANNER, NATIONAL_APPROVER, FUND)}
    runs["12"] = await publish(service, PP_PLANNER, PP_APPROVER, FUND)
    runs["1208"] = await publish(service, SEN_SOK_PLANNER, SEN_SOK_APPROVER, FUND)
    return runs


def amount(run: dict, code: str) -> int:
    return next(u["amount_riel"] for u in run["units"] if u["admin_code"] == code)


async def release(client, run: dict, code: str, riel: int, planned_on) -> dict:
    planned = await ok(
        await client.post(
            "/releases",
            json={"run_id": run["id"], "admin_code": code, "amount_riel": riel,
                  "planned_on": str(planned_on)},
        ),
        201,
    )  # fmt: skip
    return planned


async def record(client, planned: dict, released_on) -> dict:
    return await ok(
        await client.post(
            f"/releases/{planned['id']}/record",
            json={"released_on": str(released_on)},
            headers={"If-Match": f'"{planned["version"]}"'},
        )
    )


async def test_releases_spending_delays_and_the_public_disclosure(service):
    runs = await cascade(service)
    thmei = amount(runs["1208"], "120801")
    first, second = thmei // 2, thmei - thmei // 2
    day = service.clock.today()
    async with service.client(SEN_SOK_PLANNER) as district:
        tranche_1 = await release(district, runs["1208"], "120801", first, day - timedelta(days=40))
        tranche_2 = await release(district, runs["1208"], "120801", second, day - timedelta(days=5))
        too_much = await district.post(
            "/releases",
            json={"run_id": runs["1208"]["id"], "admin_code": "120801", "amount_riel": 1,
                  "planned_on": str(day)},
        )  # fmt: skip
        recorded = await record(district, tranche_1, day)  # 40 days late
    assert (tranche_1["tranche"], tranche_2["tranche"]) == (1, 2)
    assert too_much.status_code == 422
    assert too_much.json()["errors"][0]["field"] == "amount_riel"
    assert too_much.json()["allocated_riel"] == thmei
    assert too_much.json()["available_riel"] == 0
    assert recorded["delay_days"] == 40

    async with service.client(PHNOM_PENH_THMEI) as commune:
        over = await commune.post(
            "/expenditures",
            json={"fiscal_year": YEAR, "line_code": LINE, "amount_riel": first + 1,
                  "spent_on": str(day), "description": "Outreach"},
        )  # fmt: skip
        spent = await ok(
            await commune.post(
                "/expenditures",
                json={"fiscal_year": YEAR, "line_code": LINE, "amount_riel": first // 4,
                      "spent_on": str(day), "description": "ID Poor outreach transport"},
            ),
            201,
        )  # fmt: skip
        report = await ok(await commune.get("/reports/budget", params={"fiscal_year": YEAR}))
    assert over.status_code == 422
    problem = over.json()
    assert problem["errors"][0]["field"] == "amount_riel"
    assert (problem["released_riel"], problem["spent_riel"]) == (first, 0)
    assert str(first) in problem["detail"]
    assert spent["admin_code"] == "120801"
    [row] = report["rows"]
    assert (row["admin_code"], row["allocated_riel"], row["released_riel"], row["spent_riel"]) == (
        "120801", thmei, first, first // 4,
    )  # fmt: skip
    assert row["execution_rate"] == round((first // 4) / first, 4)

    async with service.client(SEN_SOK_PLANNER) as district:
        district_report = await ok(
            await district.get("/reports/budget", params={"fiscal_year": YEAR})
        )
        csv_report = await district.get(
            "/reports/budget", params={"fiscal_year": YEAR, "format": "csv"}
        )
    rows = {r["admin_code"]: r for r in district_report["rows"]}
    communes = [r for code, r in rows.items() if len(code) == 6]
    assert sum(r["allocated_riel"] for r in communes) == rows["1208"]["allocated_riel"]
    [cs_delays] = [d for d in district_report["delays"] if d["tier"] == "cs"]
    # Tranche 1 released 40 days late; tranche 2 overdue by 5 days and not released yet.
    assert cs_delays["releases"] == 2
    assert cs_delays["median_delay_days"] == 22.5
    assert cs_delays["share_late_over_30_days"] == 0.5
    assert cs_delays["overdue_not_released"] == 1
    assert csv_report.headers["content-type"].startswith("text/csv")
    assert "\n2027,social_assistance,Social assistance operations" in csv_report.text
    assert ",120801,cs,Phnom Penh Thmei,ភ្នំពេញថ្មី," in csv_report.text

    async with service.client(None) as public:
        disclosed = await ok(
            await public.get("/public/budget", params={"fiscal_year": YEAR, "area": "120801"})
        )
        country = await ok(await public.get("/public/budget", params={"fiscal_year": YEAR}))
    [public_row] = disclosed["rows"]
    assert public_row["name_km"] == "ភ្នំពេញថ្មី" and public_row["name_en"] == "Phnom Penh Thmei"
    assert public_row["line_name_km"] and public_row["line_name_en"]
    figures = [public_row[k] for k in ("allocated_riel", "released_riel", "spent_riel")]
    assert figures == [thmei, first, first // 4]
    assert "planner" not in str(disclosed) and "nat-" not in str(disclosed)
    async with service.client(None) as public:
        explained = await ok(
            await public.get(
                "/public/allocations", params={"fiscal_year": YEAR, "admin_code": "120801"}
            )
        )
    [how] = explained
    assert how["allocating_admin_code"] == "1208"
    assert how["formula_code"] == "COMMUNE_FUND_2024_2028"
    assert how["unit"]["admin_code"] == "120801" and how["unit"]["amount_riel"] == thmei
    assert how["unit"]["components"][0]["kind"] == "equal"
    assert "id" not in how and "created_by" not in how
    by_code = {r["admin_code"]: r["allocated_riel"] for r in country["rows"]}
    assert sum(v for c, v in by_code.items() if len(c) == 2) == 25_000_000_000
    assert sum(v for c, v in by_code.items() if len(c) == 4) == by_code["12"]


async def test_only_the_allocating_unit_releases_and_only_the_receiving_unit_spends(service):
    runs = await cascade(service)
    day = service.clock.today()
    body = {"run_id": runs["1208"]["id"], "admin_code": "120801", "amount_riel": 10,
            "planned_on": str(day)}  # fmt: skip
    seen = {}
    for name, caller in {
        "own commune": PHNOM_PENH_THMEI, "sibling": TUEK_THLA, "parent": SEN_SOK_PLANNER,
        "province": PP_PLANNER, "national": NATIONAL_PLANNER,
    }.items():  # fmt: skip
        async with service.client(caller) as client:
            seen[name] = (await client.post("/releases", json=body)).status_code
    assert seen == {"own commune": 404, "sibling": 404, "parent": 201, "province": 403,
                    "national": 403}  # fmt: skip
    # The commune and its sibling cannot even see the district's run (named as not found).
    async with service.client(TUEK_THLA) as sibling:
        spent = await sibling.post(
            "/expenditures",
            json={"fiscal_year": YEAR, "line_code": LINE, "amount_riel": 1, "spent_on": str(day),
                  "description": "Nothing was released to us"},
        )  # fmt: skip
        releases = await ok(await sibling.get("/releases", params={"fiscal_year": YEAR}))
    assert spent.status_code == 422 and spent.json()["released_riel"] == 0
    assert releases["items"] == []
