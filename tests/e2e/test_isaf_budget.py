"""The I-SAF <-> budget journey across the real services (issues 16 and 17), through the
gateway with the demo people's tokens, the platform's processes, PostgreSQL and the broker:

- a sangkat's JAAP action with a budget need for a training, raised as a support request by
  the I-SAF service, is opened by the budget service for Khan Sen Sok; the khan's budget
  approver decides it (partly approved) and fulfils it, and both answers come back onto the
  I-SAF action; the sibling sangkat and an unrelated province see none of it;
- Khan Sen Sok's allocation to its sangkats goes draft -> proposed -> approved by the khan's
  second person (the demo approver) -> published, a tranche is released to Phnom Penh Thmei
  and the sangkat records spending; the I-SAF public view of the sangkat and the budget's
  public disclosure show exactly those amounts, and the sangkats' figures sum to the khan's.

Nothing here calls a service directly or publishes an event itself: every event is one a
service emitted through its outbox after a request through the gateway.
"""

from __future__ import annotations

from datetime import timedelta

from shared.clock import today
from shared.gazetteer import Level, get_gazetteer
from tests.budget.conftest import census_csv
from tests.budget.test_gateway import move, ok
from tests.harness import wait_for

LINE = "social_assistance"
SEN_SOK_SANGKATS = [u.code for u in get_gazetteer().descendants("1208", Level.COMMUNE)]


async def record_a_jaap_with_a_training_need(commune, amount_riel: int) -> dict:
    """As the sangkat's facilitator: a cycle, its interface meeting and the JAAP adopted there,
    with one action needing money for a training; returns that action."""
    day = today()
    cycle = await ok(await commune.post("/isaf/cycles", json={"location_code": "120801",
                                                              "year": day.year}), 201)  # fmt: skip
    meeting = await ok(await commune.post("/isaf/activities", json={
        "cycle_id": cycle["id"], "activity_type": "interface_meeting", "held_on": str(day),
        "venue": "Sangkat hall", "participants": {"total": 30, "female": 16, "male": 14}}),
        201)  # fmt: skip
    jaap = await ok(await commune.post("/isaf/jaaps", json={
        "cycle_id": cycle["id"], "adopted_on": str(day), "interface_meeting_id": meeting["id"],
        "actions": [
            {"description": "Train the health centre staff on the patients' rights",
             "responsible_party": "Sangkat council", "responsible_tier": "cs",
             "deadline": str(day.replace(month=12, day=31)), "budget_need_riel": amount_riel},
        ]}), 201)  # fmt: skip
    [action] = jaap["actions"]
    return action


async def test_a_jaap_support_request_goes_to_the_khan_and_its_answers_come_back(
    platform, clean_databases
):
    async with platform.client("cs.phnom-penh-thmei") as commune:
        action = await record_a_jaap_with_a_training_need(commune, 2_400_000)
        asked = await ok(
            await commune.post(
                f"/isaf/jaap-actions/{action['id']}/support-request",
                json={"request_type": "training_workshop", "addressed_tier": "dmk"},
                headers={"If-Match": f'"{action["version"]}"'},
            )
        )
    assert (asked["support_status"], asked["support_addressed_admin_code"]) == ("requested", "1208")

    # The budget service opens it for Khan Sen Sok, where the khan's approver finds it.
    async with platform.client("dmk.sen-sok.approver") as khan:

        async def opened():
            rows = (
                await khan.get("/budget/support-requests", params={"addressed_to_me": True})
            ).json()["items"]
            return [r for r in rows if r["isaf_action_id"] == action["id"]]

        [request] = await wait_for(opened, timeout=60, interval=0.3)
    assert (request["addressed_tier"], request["addressed_admin_code"]) == ("dmk", "1208")
    assert (request["requesting_admin_code"], request["request_type"]) == (
        "120801", "training_workshop",
    )  # fmt: skip
    assert request["amount_riel"] == 2_400_000 and request["status"] == "submitted"
    url = f"/budget/support-requests/{request['id']}"

    # Phnom Penh, above the khan, reads both sides (so the refusals below are about the area).
    async with platform.client("cp.phnom-penh") as capital:
        assert (await capital.get(url)).status_code == 200
        assert (await capital.get(f"/isaf/jaap-actions/{action['id']}")).status_code == 200
    # The sibling sangkat and an unrelated province see none of it, on either side.
    for caller in ("cs.tuek-thla", "cp.banteay-meanchey"):
        async with platform.client(caller) as other:
            listed = (await other.get("/budget/support-requests")).json()["items"]
            assert all(r["id"] != request["id"] for r in listed), caller
            assert (await other.get(url)).status_code == 404, caller
            isaf_read = await other.get(f"/isaf/jaap-actions/{action['id']}")
            assert isaf_read.status_code == 404, caller
            jaaps = (await other.get("/isaf/jaaps")).json()["items"]
            assert all(j["id"] != action["jaap_id"] for j in jaaps), caller
            decide = await other.post(
                f"{url}/decide", json={"decision": "rejected", "reason": "Not ours"},
                headers={"If-Match": "*"},
            )  # fmt: skip
            # The sangkat may not decide at all (gateway); the province is not addressed.
            assert decide.status_code == (403 if caller == "cs.tuek-thla" else 404), caller

    # The khan's budget approver decides: partly approved, an amount.
    async with platform.client("dmk.sen-sok.approver") as khan:
        current = await khan.get(url)
        decided = await ok(
            await khan.post(
                f"{url}/decide",
                json={"decision": "partly_approved", "approved_amount_riel": 1_500_000,
                      "reason": "One training this year, the second next year."},
                headers={"If-Match": current.headers["etag"]},
            )
        )  # fmt: skip
    assert decided["status"] == "partly_approved"

    async def action_reads(status: str):
        async with platform.client("cs.phnom-penh-thmei") as commune:
            read = await ok(await commune.get(f"/isaf/jaap-actions/{action['id']}"))
        return read if read["support_status"] == status else None

    answered = await wait_for(lambda: action_reads("partly_approved"), timeout=60, interval=0.3)
    assert answered["support_approved_riel"] == 1_500_000
    # The answer is a change of the action: a tablet holding the old ETag must read it again.
    assert answered["version"] > asked["version"]
    assert answered["status"] == "not_started"  # the action's own progress is the sangkat's
    assert "1500000 of 2400000 riel" in answered["updates"][-1]["note"]
    # The khan's facilitators read the same answer on the action.
    async with platform.client("dmk.sen-sok") as khan_officer:
        seen = await ok(await khan_officer.get(f"/isaf/jaap-actions/{action['id']}"))
    assert (seen["support_status"], seen["support_approved_riel"]) == ("partly_approved", 1_500_000)

    # Then the training is given: fulfilment reaches the action too.
    async with platform.client("dmk.sen-sok.approver") as khan:
        current = await khan.get(url)
        fulfilled = await ok(
            await khan.post(f"{url}/fulfil", headers={"If-Match": current.headers["etag"]})
        )
    assert fulfilled["status"] == "fulfilled"
    done = await wait_for(lambda: action_reads("fulfilled"), timeout=60, interval=0.3)
    assert done["support_approved_riel"] == 1_500_000
    assert "fulfilled" in done["updates"][-1]["note"]

    # Still nothing for the sibling or the unrelated province after the answers.
    for caller in ("cs.tuek-thla", "cp.banteay-meanchey"):
        async with platform.client(caller) as other:
            assert (await other.get(f"/isaf/jaap-actions/{action['id']}")).status_code == 404
            assert (await other.get(url)).status_code == 404


async def publish_through_the_gateway(platform, proposer: str, approver: str, body: dict) -> dict:
    """Draft and propose as the unit's officer, approve and publish as its demo approver."""
    async with platform.client(proposer) as planner:
        run = await ok(await planner.post("/budget/allocation-runs", json=body), 201)
        await move(planner, "/budget", run, "propose")
        own = await planner.post(
            f"/budget/allocation-runs/{run['id']}/approve",
            headers={"If-Match": (await planner.get(f"/budget/allocation-runs/{run['id']}"))
                     .headers["etag"]},
        )  # fmt: skip
        assert own.status_code == 403  # never one's own proposal
        assert own.json()["errors"][0]["field"] == "proposed_by"
    async with platform.client(approver) as second:
        # An approver only approves: drafting is a planner's.
        refused = await second.post("/budget/allocation-runs", json=body)
        assert refused.status_code == 403
        approved = await move(second, "/budget", run, "approve")
        assert approved["status"] == "approved"
        await move(second, "/budget", run, "publish")
        published = await ok(await second.get(f"/budget/allocation-runs/{run['id']}"))
    assert published["status"] == "published"
    return published


async def test_the_khans_published_budget_reaches_the_public_views(platform, clean_databases):
    year = today().year
    async with platform.client("national.officer") as national:
        await ok(await national.post("/budget/fiscal-years", json={"year": year}), 201)
        await ok(
            await national.put(
                f"/budget/fiscal-years/{year}/envelopes/{LINE}",
                json={"amount_riel": 40_000_000_001},
            )
        )
        await ok(
            await national.post(
                "/budget/datasets",
                data={"code": "population", "name": "Census population", "area": "",
                      "source": "NIS census 2019", "reference_date": "2019-03-03",
                      "level": "commune"},
                files={"file": ("population.csv", census_csv("", 6))},
            ),
            201,
        )  # fmt: skip
    body = {"fiscal_year": year, "line_code": LINE, "formula_code": "COMMUNE_FUND_2024_2028"}
    await publish_through_the_gateway(platform, "national.officer", "national.approver", body)
    await publish_through_the_gateway(platform, "cp.phnom-penh", "cp.phnom-penh.approver", body)
    run = await publish_through_the_gateway(platform, "dmk.sen-sok", "dmk.sen-sok.approver", body)
    sangkats = {u["admin_code"]: u["amount_riel"] for u in run["units"]}
    assert sorted(sangkats) == SEN_SOK_SANGKATS
    assert sum(sangkats.values()) == run["envelope_riel"]
    thmei = sangkats["120801"]

    # A tranche to Phnom Penh Thmei, released; the sangkat spends part of it.
    released, spent = thmei // 3, thmei // 10
    async with platform.client("dmk.sen-sok") as khan:
        tranche = await ok(
            await khan.post(
                "/budget/releases",
                json={"run_id": run["id"], "admin_code": "120801", "amount_riel": released,
                      "planned_on": str(today() - timedelta(days=10))},
            ),
            201,
        )  # fmt: skip
        await ok(
            await khan.post(
                f"/budget/releases/{tranche['id']}/record",
                json={"released_on": str(today())},
                headers={"If-Match": f'"{tranche["version"]}"'},
            )
        )
    async with platform.client("cs.phnom-penh-thmei") as commune:
        await ok(
            await commune.post(
                "/budget/expenditures",
                json={"fiscal_year": year, "line_code": LINE, "amount_riel": spent,
                      "spent_on": str(today()), "description": "CAF training on the JAAP"},
            ),
            201,
        )  # fmt: skip

    # The I-SAF public view of the sangkat, without login, shows exactly those amounts.
    expected = {"fiscal_year": year, "allocated_riel": thmei, "released_riel": released,
                "spent_riel": spent}  # fmt: skip
    async with platform.client("anonymous", client_ip="203.0.113.81") as citizen:

        async def shown():
            view = (await citizen.get("/isaf/public/communes/120801")).json()
            return view if view["budget"] == [expected] else None

        view = await wait_for(shown, timeout=90, interval=0.5)
        disclosed = await ok(
            await citizen.get("/budget/public/budget", params={"fiscal_year": year,
                                                               "area": "1208"})
        )  # fmt: skip
        # Every sangkat of the khan shows its own published allocation in the I-SAF view.
        isaf_allocated = {}
        for code in SEN_SOK_SANGKATS:

            async def allocated(code=code):
                years = (await citizen.get(f"/isaf/public/communes/{code}")).json()["budget"]
                return years[0]["allocated_riel"] if years else None

            isaf_allocated[code] = await wait_for(allocated, timeout=60, interval=0.5)
    assert view["code"] == "120801" and view["name_en"] == "Phnom Penh Thmei"
    # The budget's own public disclosure shows the same figures.
    rows = {r["admin_code"]: r for r in disclosed["rows"] if r["line_code"] == LINE}
    row = rows["120801"]
    assert (row["allocated_riel"], row["released_riel"], row["spent_riel"]) == (
        thmei, released, spent,
    )  # fmt: skip
    # The sangkats' figures, on either side, sum to the khan's.
    assert isaf_allocated == sangkats
    assert {c: r["allocated_riel"] for c, r in rows.items() if len(c) == 6} == sangkats
    assert sum(isaf_allocated.values()) == rows["1208"]["allocated_riel"] == run["envelope_riel"]
