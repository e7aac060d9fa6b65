"""The issue's "done when", through the gateway with the real policy and the platform's
processes: households registered in the registry feed a poverty-weighted national
allocation; Phnom Penh allocates to its khans and Khan Sen Sok to its sangkats with the
2024-2028 commune fund; releases and spending are recorded and the delays reported; a
sangkat's JAAP action (an I-SAF event on the broker) becomes a training request whose
decision is published for the I-SAF action; the public disclosure shows Phnom Penh Thmei's
amounts; every figure sums to its parent's.

A run is approved by someone other than its proposer: each unit's demo officer proposes and
the unit's demo approver (`national.approver`, `cp.phnom-penh.approver`,
`dmk.sen-sok.approver`) approves, through the gateway like everyone else."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from shared.clock import today
from shared.events.catalog.isaf import JaapActionSupportRequested
from tests.budget.conftest import census_csv
from tests.budget.test_support import publish_as_isaf
from tests.harness import envelopes, read_topic, wait_for
from tests.registry.factories import VILLAGE_PHNOM_PENH_THMEI
from tests.registry.test_households import household_body

LINE = "social_assistance"


async def ok(response, *statuses: int) -> dict:
    assert response.status_code in (statuses or (200, 201)), response.text
    return response.json() if response.content else {}


async def move(client, prefix: str, run: dict, action: str) -> dict:
    etag = (await client.get(f"{prefix}/allocation-runs/{run['id']}")).headers["etag"]
    return await ok(
        await client.post(
            f"{prefix}/allocation-runs/{run['id']}/{action}", headers={"If-Match": etag}
        )
    )


async def allocate(platform, caller: str, approver: str, body: dict) -> dict:
    """Draft and propose through the gateway as `caller`, approve as the unit's demo
    `approver`, publish as `caller`; the published run with its explanation."""
    async with platform.client(caller) as client:
        run = await ok(await client.post("/budget/allocation-runs", json=body), 201)
        await move(client, "/budget", run, "propose")
    async with platform.client(approver) as second:
        await move(second, "/budget", run, "approve")
    async with platform.client(caller) as client:
        await move(client, "/budget", run, "publish")
        return await ok(await client.get(f"/budget/allocation-runs/{run['id']}"))


async def test_done_when(platform, clean_databases, infrastructure):
    year = today().year
    # Households registered and verified in the registry, two of them poor.
    async with platform.client("cs.phnom-penh-thmei") as commune:
        for level in ("POOR_1", "POOR_2"):
            household = await ok(
                await commune.post("/registry/households", json=household_body()), 201
            )
            url = f"/registry/households/{household['id']}"
            etag = (await commune.get(url)).headers["etag"]
            await ok(
                await commune.put(
                    f"{url}/poverty-status",
                    json={"level": level, "score": 40, "method": "ON_DEMAND",
                          "assessed_on": str(today()),
                          "valid_until": str(today().replace(year=today().year + 2)),
                          "vulnerability_categories": []},
                    headers={"If-Match": etag},
                )
            )  # fmt: skip
            async with platform.client("dmk.sen-sok") as district:
                etag = (await district.get(url)).headers["etag"]
                await ok(await district.post(f"{url}/verify", headers={"If-Match": etag}))

    async with platform.client("national.officer") as national:

        async def counted():
            table = (await national.get("/budget/indicators", params={"fiscal_year": year})).json()
            pp = next(u for u in table.get("units", []) if u["admin_code"] == "12")
            # Two households' events travel on different partitions: wait for all three
            # figures, not for the last household's only.
            wanted = {"households_poor_1": 1, "households_poor_2": 1, "households": 2}
            return all(pp["values"].get(k) == v for k, v in wanted.items()) and pp["values"]

        values = await wait_for(counted, timeout=60)
        assert values["households_poor_1"] == 1 and values["households"] == 2
        await ok(await national.post("/budget/fiscal-years", json={"year": year}), 201)
        await ok(
            await national.put(
                f"/budget/fiscal-years/{year}/envelopes/{LINE}",
                json={"amount_riel": 50_000_000_003},
            )
        )
        await ok(
            await national.post(
                "/budget/datasets",
                data={"code": "population", "name": "Census population", "area": "12",
                      "source": "NIS census 2019", "reference_date": "2019-03-03",
                      "level": "commune"},
                files={"file": ("population.csv", census_csv("12", 6))},
            ),
            201,
        )  # fmt: skip
    body = {"fiscal_year": year, "line_code": LINE}
    national_run = await allocate(
        platform,
        "national.officer",
        "national.approver",
        {**body, "formula_code": "POVERTY_WEIGHTED"},
    )
    provinces = {u["admin_code"]: u for u in national_run["units"]}
    assert sum(u["amount_riel"] for u in provinces.values()) == 50_000_000_003
    # 20 % equal over 25 provinces, 80 % to the only province with poor households.
    assert provinces["12"]["amount_riel"] in (40_400_000_002, 40_400_000_003)
    assert provinces["12"]["components"][1]["value"] == 3  # 2 x POOR_1 + 1 x POOR_2

    fund = {**body, "formula_code": "COMMUNE_FUND_2024_2028"}
    pp_run = await allocate(platform, "cp.phnom-penh", "cp.phnom-penh.approver", fund)
    assert pp_run["envelope_riel"] == provinces["12"]["amount_riel"]
    khans = {u["admin_code"]: u for u in pp_run["units"]}
    assert sum(u["amount_riel"] for u in khans.values()) == pp_run["envelope_riel"]
    sen_sok_run = await allocate(platform, "dmk.sen-sok", "dmk.sen-sok.approver", fund)
    sangkats = {u["admin_code"]: u for u in sen_sok_run["units"]}
    assert sen_sok_run["envelope_riel"] == khans["1208"]["amount_riel"]
    assert sum(u["amount_riel"] for u in sangkats.values()) == khans["1208"]["amount_riel"]
    thmei = sangkats["120801"]
    assert [c["kind"] for c in thmei["components"]] == [
        "equal", "indicator", "indicator", "per_sub_unit",
    ]  # fmt: skip
    assert all(c["share_riel"] for c in thmei["components"])

    # Releases (one tranche late) and spending; the delays reported.
    async with platform.client("dmk.sen-sok") as district:
        tranche = await ok(
            await district.post(
                "/budget/releases",
                json={"run_id": sen_sok_run["id"], "admin_code": "120801",
                      "amount_riel": thmei["amount_riel"] // 2,
                      "planned_on": str(today() - timedelta(days=35))},
            ),
            201,
        )  # fmt: skip
        await ok(
            await district.post(
                f"/budget/releases/{tranche['id']}/record",
                json={"released_on": str(today())},
                headers={"If-Match": f'"{tranche["version"]}"'},
            )
        )
    async with platform.client("cs.phnom-penh-thmei") as commune:
        await ok(
            await commune.post(
                "/budget/expenditures",
                json={"fiscal_year": year, "line_code": LINE, "amount_riel": 1_000_000,
                      "spent_on": str(today()), "description": "IDPoor outreach"},
            ),
            201,
        )  # fmt: skip
    async with platform.client("cp.phnom-penh") as province:
        report = await ok(await province.get("/budget/reports/budget",
                                             params={"fiscal_year": year}))  # fmt: skip
    [cs_delay] = [d for d in report["delays"] if d["tier"] == "cs"]
    assert cs_delay["median_delay_days"] == 35 and cs_delay["share_late_over_30_days"] == 1.0

    # A sangkat's JAAP action becomes a training request; the decision goes back to I-SAF.
    action_id = uuid.uuid4()
    await publish_as_isaf(
        infrastructure,
        JaapActionSupportRequested(
            jaap_id=uuid.uuid4(), action_id=action_id, cycle_id=uuid.uuid4(),
            requesting_admin_code="120801", addressed_tier="dmk", addressed_admin_code="1208",
            request_type="training_workshop", description="Training for the CAFs",
            amount_riel=1_500_000, requested_at=datetime.now(UTC),
        ),
        "/sp/isaf",
    )  # fmt: skip
    async with platform.client("dmk.sen-sok") as district:

        async def opened():
            rows = (await district.get("/budget/support-requests")).json()["items"]
            return [r for r in rows if r["isaf_action_id"] == str(action_id)]

        [request] = await wait_for(opened, timeout=60)
        await ok(
            await district.post(
                f"/budget/support-requests/{request['id']}/decide",
                json={"decision": "approved"},
                headers={"If-Match": f'"{request["version"]}"'},
            )
        )

    def decided(records):
        return [e for e in envelopes(records) if e["type"].endswith("support_request.decided.v1")
                and e["data"]["isaf_action_id"] == str(action_id)]  # fmt: skip

    records = await read_topic(
        infrastructure.bootstrap_servers, "sp.budget.support_request",
        until=lambda r: bool(decided(r)), timeout=60,
    )  # fmt: skip
    assert decided(records)[0]["data"]["decision"] == "approved"

    # The public disclosure shows Phnom Penh Thmei's amounts; every figure sums to its parent's.
    async with platform.client("anonymous") as public:
        thmei_public = await ok(
            await public.get("/budget/public/budget", params={"fiscal_year": year,
                                                              "area": "120801"})
        )  # fmt: skip
        country = await ok(await public.get("/budget/public/budget", params={"fiscal_year": year}))
    [row] = thmei_public["rows"]
    assert row["name_en"] == "Phnom Penh Thmei" and row["name_km"] == "ភ្នំពេញថ្មី"
    assert row["allocated_riel"] == thmei["amount_riel"]
    assert row["released_riel"] == thmei["amount_riel"] // 2
    assert row["spent_riel"] == 1_000_000
    allocated = {r["admin_code"]: r["allocated_riel"] for r in country["rows"]}
    assert sum(v for c, v in allocated.items() if len(c) == 2) == 50_000_000_003
    assert sum(v for c, v in allocated.items() if len(c) == 4) == allocated["12"]
    assert sum(v for c, v in allocated.items() if len(c) == 6) == allocated["1208"]
    assert VILLAGE_PHNOM_PENH_THMEI.startswith("120801")


async def test_the_gateway_applies_the_budget_rows_of_the_policy(platform, clean_databases):
    """Who may call what, before the service looks at the area: national-only planning,
    allocating tiers only for runs, communes and districts only asking for support, the public
    disclosure without login and nothing else without a token."""
    year = today().year
    calls = [
        ("anonymous", "GET", "/budget/public/budget", {"fiscal_year": year}, None, 200),
        ("anonymous", "GET", "/budget/allocation-runs", None, None, 401),
        ("cs.phnom-penh-thmei", "GET", "/budget/allocation-runs", None, None, 200),
        ("cs.phnom-penh-thmei", "PUT", f"/budget/fiscal-years/{year}/envelopes/{LINE}", None,
         {"amount_riel": 1}, 403),
        ("cp.phnom-penh", "POST", "/budget/fiscal-years", None, {"year": year}, 403),
        ("cs.phnom-penh-thmei", "POST", "/budget/allocation-runs", None, {}, 403),
        ("cp.banteay-meanchey", "POST", "/budget/support-requests", None, {}, 403),
        ("national.officer", "POST", "/budget/expenditures", None, {}, 403),
        ("national.officer", "POST", "/budget/fiscal-years", None, {"year": year}, 201),
    ]  # fmt: skip
    seen = []
    for caller, method, path, params, body, _ in calls:
        async with platform.client(caller) as client:
            response = await client.request(method, path, params=params, json=body)
        seen.append(response.status_code)
    assert seen == [expected for *_, expected in calls]
