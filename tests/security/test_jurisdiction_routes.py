"""Generated from the gateway's policy table: no caller learns anything about a record outside
its area, through any route, nested reads included.

One "canary" world lives in Sangkat Phnom Penh Thmei: a household whose people have names
found nowhere else, its enrolment, benefit, case, change request and import, a grievance, and
a duplicate pair with a household the sibling sangkat (Tuek Thla) registered with the same
national ID and phone (the nested read that once listed another province's families). Then
every route of `gateway/policy.yml`, every method, is called through the real gateway and
services as

- the sibling sangkat (Tuek Thla) and an unrelated province (Banteay Meanchey): no answer
  may carry any canary string (code, ids, names, texts), a call naming a canary record must
  be refused without saying whether it exists (never 2xx, 409 or 412), and afterwards every
  canary record is as it was;
- the parent district (Sen Sok) and the national officer, as positive controls: the records
  really are readable where the policy allows, so a refusal above is not a wrong parameter.

A new route with a path parameter this test cannot fill fails it until the parameter is
mapped below: the table cannot grow a route the generator does not try.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
import yaml

from shared.clock import today
from tests.harness import ROOT
from tests.registry.factories import VILLAGE_PHNOM_PENH_THMEI, VILLAGE_TUEK_THLA
from tests.registry.test_households import household_body, person

POLICY = yaml.safe_load(Path(ROOT / "gateway" / "policy.yml").read_text())
OUTSIDERS = ("cs.tuek-thla", "cp.banteay-meanchey")
INSIDERS = ("dmk.sen-sok", "national.officer")
# Refusals that say nothing about whether the record exists.
SILENT_REFUSALS = {400, 401, 403, 404, 405, 422, 428, 429}
NATIONAL_ID, PHONE = "731946285", "097 531 864"


# Names that appear nowhere else in the platform's data or code lists.
NAMES = {
    "family_name_latin": "Kanhchanavong",
    "given_name_latin": "Sovannaroth",
    "family_name_km": "កញ្ចនវង្ស",
    "given_name_km": "សុវណ្ណរ័ត្ន",
}


async def ok(response, *statuses: int) -> dict:
    assert response.status_code in (statuses or (200, 201)), response.text
    return response.json() if response.content else {}


@pytest.fixture
async def canary(platform, clean_databases) -> dict:
    """The world above, built through the gateway as the people concerned would."""
    names = NAMES
    body = household_body(
        members=[
            person(**names, national_id=NATIONAL_ID, phone=PHONE),
            person(
                "child",
                given_name_km="សុវណ្ណារី",
                given_name_latin="Sovannary",
                family_name_latin="Kanhchanavong",
                family_name_km="កញ្ចនវង្ស",
                sex="female",
                birth_date=str(today().replace(year=today().year - 9, day=1)),
                school_enrolment="primary",
            ),
        ],
        address="Canary house 77, lane of the kapok tree",
    )
    world: dict = {}
    async with platform.client("cs.phnom-penh-thmei") as commune:
        household = await ok(await commune.post("/registry/households", json=body), 201)
        url = f"/registry/households/{household['id']}"
        read = await commune.get(url)
        await ok(
            await commune.put(
                f"{url}/poverty-status",
                json={
                    "level": "POOR_1",
                    "score": 40,
                    "method": "ON_DEMAND",
                    "assessed_on": str(today()),
                    "valid_until": str(today().replace(year=today().year + 2)),
                    "vulnerability_categories": [],
                },
                headers={"If-Match": read.headers["etag"]},
            )
        )
    async with platform.client("dmk.sen-sok") as district:
        etag = (await district.get(url)).headers["etag"]
        await ok(await district.post(f"{url}/verify", headers={"If-Match": etag}))
    async with platform.client("cs.phnom-penh-thmei") as commune:
        enrolment = await ok(
            await commune.post(
                "/registry/enrolments",
                json={"household_id": household["id"], "programme_code": "PRIMARY_SCHOLARSHIP",
                      "member_id": household["members"][1]["id"]},
            ),
            201,
        )  # fmt: skip
    async with platform.client("dmk.sen-sok") as district:
        await ok(
            await district.post(
                f"/registry/enrolments/{enrolment['id']}/approve",
                headers={"If-Match": f'"{enrolment["version"]}"'},
            )
        )
    async with platform.client("cs.phnom-penh-thmei") as commune:
        programme = await ok(await commune.get("/registry/programmes/PRIMARY_SCHOLARSHIP"))
        period = {
            "monthly": today().strftime("%Y-%m"),
            "quarterly": f"{today().year}-Q{(today().month - 1) // 3 + 1}",
            "yearly": str(today().year),
        }.get(programme.get("benefit_frequency") or programme.get("frequency"), str(today().year))
        benefit = await commune.post(
            f"/registry/enrolments/{enrolment['id']}/benefits",
            json={"period": period, "amount_khr": 60_000, "channel": "bank",
                  "status": "scheduled"},
        )  # fmt: skip
        world["benefit"] = await ok(benefit, 201)
        world["case"] = await ok(
            await commune.post(
                "/registry/cases",
                json={"household_id": household["id"], "case_type": "follow_up",
                      "description": "Canary case: the kapok tree fell on the roof."},
            ),
            201,
        )  # fmt: skip
        world["change_request"] = await ok(
            await commune.post(
                "/registry/change-requests",
                json={"change_type": "update_household", "household_id": household["id"],
                      "changes": {"address": "Canary house 78, lane of the kapok tree"},
                      "justification": "Canary justification: they moved next door."},
            ),
            201,
        )  # fmt: skip
        template = (await commune.get("/registry/imports/template.csv")).content
        world["import"] = await ok(
            await commune.post("/registry/imports", files={"file": ("canary.csv", template)}),
            201,
            202,
        )
        world["grievance"] = await ok(
            await commune.post(
                "/grievance/grievances",
                json={"channel": "commune_office", "category": "exclusion_error",
                      "description": "Canary grievance: Kanhchanavong family left out.",
                      "location_code": VILLAGE_PHNOM_PENH_THMEI, "anonymous": False,
                      "complainant": {"name": "Kanhchanavong Sovannaroth", "phone": PHONE}},
            ),
            201,
        )  # fmt: skip
    # The sibling registers a family with the canary's ID and phone: the duplicate pair.
    async with platform.client("cs.tuek-thla") as sibling:
        twin = await ok(
            await sibling.post(
                "/registry/households",
                json=household_body(
                    village_code=VILLAGE_TUEK_THLA,
                    members=[person(national_id=NATIONAL_ID, phone=PHONE)],
                ),
            ),
            201,
        )
        pairs = await ok(await sibling.get(f"/registry/households/{twin['id']}/duplicates"))
    async with platform.client("national.officer") as national:
        listed = await ok(await national.get("/registry/duplicates"))
    candidates = [c for c in listed.get("items", []) if twin["id"] in str(c)]
    assert candidates, f"the shared ID made no duplicate pair: {pairs}"
    world |= {"household": household, "enrolment": enrolment, "twin": twin,
              "candidate": candidates[0], "programme": "PRIMARY_SCHOLARSHIP"}  # fmt: skip
    world["isaf"] = await isaf_canary(platform)
    world["budget"] = await budget_canary(platform)
    # Not the national ID or phone: the sibling typed them itself, for its own household.
    world["secrets"] = sorted(
        {
            household["id"],
            household["code"],
            *(m["id"] for m in household["members"]),
            names["given_name_latin"],
            names["family_name_latin"],
            names["given_name_km"],
            names["family_name_km"],
            "Sovannary",
            "kapok",
            enrolment["id"],
            world["benefit"]["id"],
            world["case"]["id"],
            world["change_request"]["id"],
            world["import"]["id"],
            world["grievance"]["id"],
            world["grievance"]["tracking_code"].replace("-", ""),
            *world["isaf"]["secrets"],
            *world["budget"]["secrets"],
        }
    )
    return world


# --- I-SAF canary records (the isaf service's block) -------------------------------------------


async def isaf_canary(platform) -> dict:
    """A cycle of Phnom Penh Thmei with a CAF whose name is the canary's, a facility, a
    public forum with an issue, a training, a scorecard sitting and a JAAP with an action."""
    year = today().year
    isaf: dict = {}
    async with platform.client("cs.phnom-penh-thmei") as commune:
        isaf["cycle"] = await ok(await commune.post(
            "/isaf/cycles", json={"location_code": "120801", "year": year}), 201)  # fmt: skip
        cycle_id = isaf["cycle"]["id"]
        isaf["facility"] = await ok(await commune.post("/isaf/facilities", json={
            "location_code": "120801", "facility_type": "health_centre",
            "name_km": "មណ្ឌលសុខភាព", "name_en": "Health centre"}), 201)  # fmt: skip
        isaf["caf"] = await ok(await commune.post("/isaf/cafs", json={
            "location_code": "120801", "name": "Kanhchanavong Sovannaroth", "sex": "female",
            "phone": PHONE}), 201)  # fmt: skip
        isaf["training"] = await ok(await commune.post("/isaf/trainings", json={
            "location_code": "120801", "audience": "caf", "topics": ["Canary kapok topic"],
            "starts_on": f"{year}-01-05", "ends_on": f"{year}-01-05", "venue": "Kapok hall",
            "attendees_total": 1, "attendees_female": 1, "attendees_male": 0,
            "caf_ids": [isaf["caf"]["id"]]}), 201)  # fmt: skip
        isaf["activity"] = await ok(await commune.post("/isaf/activities", json={
            "cycle_id": cycle_id, "activity_type": "public_forum", "held_on": f"{year}-01-06",
            "venue": "Kapok hall", "facilitator_caf_ids": [isaf["caf"]["id"]],
            "participants": {"total": 9, "female": 5, "male": 4}}), 201)  # fmt: skip
        isaf["item"] = await ok(await commune.post("/isaf/forum-items", json={
            "activity_id": isaf["activity"]["id"], "kind": "issue",
            "text": "Canary issue: the kapok tree blocks the school road."}), 201)  # fmt: skip
        participant, indicator = str(uuid.uuid4()), str(uuid.uuid4())
        scorecard_id = str(uuid.uuid4())
        isaf["scorecard"] = await ok(await commune.put(
            f"/isaf/scorecards/{scorecard_id}/sitting", json={
                "cycle_id": cycle_id, "facility_id": isaf["facility"]["id"],
                "kind": "community", "held_on": f"{year}-01-07", "venue": "Kapok hall",
                "participants": [{"id": participant, "sex": "female"}],
                "indicators": [{"id": indicator, "source": "standard", "code": "HC01",
                                "selected": True}],
                "votes": [{"participant_id": participant, "indicator_id": indicator,
                           "score": 4}]}), 201)  # fmt: skip
        isaf["jaap"] = await ok(await commune.post("/isaf/jaaps", json={
            "cycle_id": cycle_id, "adopted_on": f"{year}-01-08",
            "actions": [{"description": "Trim the big tree", "responsible_party": "Council",
                         "responsible_tier": "cs", "deadline": f"{year}-12-31",
                         "budget_need_riel": 100_000}]}), 201)  # fmt: skip
    isaf["action"] = isaf["jaap"]["actions"][0]
    isaf["secrets"] = [
        isaf[name]["id"]
        for name in ("cycle", "facility", "caf", "training", "activity", "item", "scorecard",
                     "jaap", "action")
    ] + [participant, indicator]  # fmt: skip
    return isaf


def isaf_path_values(isaf: dict) -> dict[tuple[str, str], str]:
    return {
        ("isaf", "cycle_id"): isaf["cycle"]["id"],
        ("isaf", "facility_id"): isaf["facility"]["id"],
        ("isaf", "caf_id"): isaf["caf"]["id"],
        ("isaf", "training_id"): isaf["training"]["id"],
        ("isaf", "activity_id"): isaf["activity"]["id"],
        ("isaf", "scorecard_id"): isaf["scorecard"]["id"],
        ("isaf", "jaap_id"): isaf["jaap"]["id"],
        ("isaf", "action_id"): isaf["action"]["id"],
        ("isaf", "item_id"): isaf["item"]["id"],
        ("/public/communes/{code}", "code"): "120801",
    }


ISAF_FINGERPRINTED = {
    "cycle": "/isaf/cycles/{}", "caf": "/isaf/cafs/{}", "scorecard": "/isaf/scorecards/{}",
    "action": "/isaf/jaap-actions/{}", "item": "/isaf/forum-items/{}",
}  # fmt: skip


# --- budget canary records (the budget service's block) -------------------------------------
# Khan Sen Sok's published allocation to its sangkats, a tranche released to Phnom Penh Thmei,
# its spending and its support request to the khan. The steps needing a second approver (a
# run is approved by someone other than its proposer) call the budget process directly with
# the gateway's internal token; everything the demo people can do goes through the gateway.
BUDGET_LINE = "social_assistance"


def _budget_person(sub: str, tier: str, code: str, *roles: str):
    from shared.principal import Principal

    return Principal(sub=sub, tier=tier, admin_code=code, roles=frozenset(roles))


async def budget_canary(platform) -> dict:
    import httpx

    from tests.harness import internal_headers

    year = today().year
    url = platform.service_urls["budget"]

    def direct(principal):
        return httpx.AsyncClient(
            base_url=url, headers=internal_headers(principal, "budget"), timeout=30
        )

    async def move(client, prefix: str, run: dict, action: str) -> dict:
        etag = (await client.get(f"{prefix}/allocation-runs/{run['id']}")).headers["etag"]
        return await ok(
            await client.post(
                f"{prefix}/allocation-runs/{run['id']}/{action}", headers={"If-Match": etag}
            )
        )

    body = {"fiscal_year": year, "line_code": BUDGET_LINE, "formula_code": "CANARY_EQUAL"}
    for code, tier in (("", "national"), ("12", "cp")):
        planner = _budget_person(f"canary-planner-{tier}", tier, code, "budget.planner")
        approver = _budget_person(f"canary-approver-{tier}", tier, code, "budget.approver")
        async with direct(planner) as client:
            if not code:
                await ok(await client.post("/fiscal-years", json={"year": year}), 201)
                await ok(
                    await client.put(
                        f"/fiscal-years/{year}/envelopes/{BUDGET_LINE}",
                        json={"amount_riel": 2_500_000_000},
                    )
                )
                await ok(
                    await client.post(
                        "/formulas",
                        json={"code": "CANARY_EQUAL", "name": "Equal shares",
                              "definition": {"components": [{"kind": "equal", "weight": "1"}]}},
                    ),
                    201,
                )  # fmt: skip
            run = await ok(await client.post("/allocation-runs", json=body), 201)
            await move(client, "", run, "propose")
        async with direct(approver) as client:
            await move(client, "", run, "approve")
            await move(client, "", run, "publish")
    async with platform.client("dmk.sen-sok") as district:
        run = await ok(await district.post("/budget/allocation-runs", json=body), 201)
        await move(district, "/budget", run, "propose")
    async with direct(_budget_person("canary-approver-1208", "dmk", "1208",
                                     "budget.approver")) as approver:  # fmt: skip
        await move(approver, "", run, "approve")
    async with platform.client("dmk.sen-sok") as district:
        await move(district, "/budget", run, "publish")
        release = await ok(
            await district.post(
                "/budget/releases",
                json={"run_id": run["id"], "admin_code": "120801", "amount_riel": 1_000,
                      "planned_on": str(today())},
            ),
            201,
        )  # fmt: skip
        await ok(
            await district.post(
                f"/budget/releases/{release['id']}/record",
                json={"released_on": str(today())},
                headers={"If-Match": f'"{release["version"]}"'},
            )
        )
    async with platform.client("cs.phnom-penh-thmei") as commune:
        spent = await ok(
            await commune.post(
                "/budget/expenditures",
                json={"fiscal_year": year, "line_code": BUDGET_LINE, "amount_riel": 400,
                      "spent_on": str(today()), "description": "Canary: rope for the kapok tree"},
            ),
            201,
        )  # fmt: skip
        request = await ok(
            await commune.post(
                "/budget/support-requests",
                json={"addressed_tier": "dmk", "request_type": "training_workshop",
                      "description": "Canary: training under the kapok tree",
                      "amount_riel": 90_000},
            ),
            201,
        )  # fmt: skip
    return {
        "year": year,
        "run": run,
        "release": release,
        "support_request": request,
        "secrets": [run["id"], release["id"], spent["id"], request["id"]],
    }


def path_values(world: dict) -> dict[tuple[str, str], str]:
    """What fills each path parameter: (service, parameter) or (path, parameter)."""
    household = world["household"]
    return {
        ("registry", "household_id"): household["id"],
        ("registry", "member_id"): household["members"][0]["id"],
        ("registry", "enrolment_id"): world["enrolment"]["id"],
        ("registry", "benefit_id"): world["benefit"]["id"],
        ("registry", "case_id"): world["case"]["id"],
        ("registry", "change_request_id"): world["change_request"]["id"],
        ("registry", "candidate_id"): world["candidate"]["id"],
        ("registry", "import_id"): world["import"]["id"],
        ("/households/by-code/{code}", "code"): household["code"],
        ("/programmes/{code}", "code"): world["programme"],
        ("grievance", "id"): world["grievance"]["id"],
        ("/public/grievances/{code}", "code"): world["grievance"]["tracking_code"],
        ("/public/grievances/{code}/rating", "code"): world["grievance"]["tracking_code"],
        ("/public/grievances/{code}/reopen", "code"): world["grievance"]["tracking_code"],
        ("grievance", "kind"): "assigned",
        ("grievance", "list"): "categories",
        **isaf_path_values(world["isaf"]),
        # budget
        ("budget", "year"): str(world["budget"]["year"]),
        ("budget", "line_code"): BUDGET_LINE,
        ("budget", "code"): "CANARY_EQUAL",
        ("budget", "version"): "1",
        ("budget", "dataset_id"): str(uuid.UUID(int=7)),
        ("budget", "run_id"): world["budget"]["run"]["id"],
        ("budget", "release_id"): world["budget"]["release"]["id"],
        ("budget", "request_id"): world["budget"]["support_request"]["id"],
        ("/reference/code-lists/{name}", "name"): "sex",
        ("budget", "/reference/code-lists/{name}", "name"): "budget-lines",
        ("/reference/gazetteer/{code}", "code"): "01",
    }


# Query parameters that aim a list or search route at the canary.
QUERIES = {
    "/members/search": {"q": "Sovannaroth", "district": "1208"},
    "/verification": {"household_code": None},  # filled with the canary's code
    "/households": {"location": VILLAGE_PHNOM_PENH_THMEI},
    "/reports/households": {"area": "120801"},
    "/reports/enrolments": {"area": "120801"},
    "/reports/grievances": {"area": "120801"},
    # I-SAF reports: the canary's year, narrowed to its sangkat.
    **{
        f"/reports/{name}": {"from_year": today().year, "to_year": today().year,
                             "location": "120801"}
        for name in ("participation", "cafs", "scorecard-results", "jaap-completion", "summary")
    },
    # budget (the year is filled in by `calls`)
    "/reports/budget": {"fiscal_year": None, "area": "120801"},
    "/reports/support-requests": {"fiscal_year": None, "area": "120801"},
    "/public/budget": {"fiscal_year": None, "area": "120801"},
    "/public/allocations": {"fiscal_year": None, "admin_code": "120801"},
    "/indicators": {"fiscal_year": None, "area": "1208"},
    "/reference/gazetteer/search": {"q": "Mongkol"},
}  # fmt: skip


def calls(world: dict, *, own: dict | None = None):
    """Every route and method of the policy with its parameters filled: by the canary's
    records, or (`own`) by the sibling's twin household, whose nested reads (its duplicates,
    its history ...) must not reach the canary either."""
    values = path_values(world)
    if own is not None:
        values |= {
            ("registry", "household_id"): own["id"],
            ("registry", "member_id"): own["members"][0]["id"],
            ("/households/by-code/{code}", "code"): own["code"],
        }
    for route in POLICY["routes"]:
        service, path = route["service"], route["path"]
        url = path
        for name in re.findall(r"{(\w+)}", path):
            value = (
                values.get((service, path, name))
                or values.get((path, name))
                or values.get((service, name))
            )
            assert value, f"{service} {path}: map {{{name}}} in path_values()"
            url = url.replace(f"{{{name}}}", value)
        query = dict(QUERIES.get(path, {}))
        if "household_code" in query:
            query["household_code"] = world["household"]["code"]
        if "fiscal_year" in query:
            query["fiscal_year"] = str(world["budget"]["year"])
        for method in route["methods"]:
            yield route, method, f"/{service}{url}", query


# Routes whose parameters name no record of an area: programmes are national, code lists
# and worklist kinds are words, the gazetteer is public reference data.
UNSCOPED = {
    "/programmes/{code}",
    "/code-lists/{list}",
    "/worklists/{kind}",
    "/reference/code-lists/{name}",
    "/reference/gazetteer/{code}",
}
# Budget: years, lines and formulas are national reference data; a dataset is national too.
UNSCOPED |= {
    "/fiscal-years/{year}/envelopes",
    "/fiscal-years/{year}/envelopes/{line_code}",
    "/formulas/{code}/versions",
    "/formulas/{code}/versions/{version}",
    "/datasets/{dataset_id}",
}


def leaked(text: str, secrets: list[str], asked: str) -> list[str]:
    """The canary strings in an answer, but those the caller put in its own request (a
    problem's `instance` repeats the path it was given: that tells the caller nothing)."""
    text, asked = text.lower(), asked.lower()
    return [s for s in secrets if s.lower() in text and s.lower() not in asked]


async def fingerprint(platform, world: dict) -> dict:
    """Every canary record's version as the national officer reads it."""
    urls = {
        "household": f"/registry/households/{world['household']['id']}",
        "enrolment": f"/registry/enrolments/{world['enrolment']['id']}",
        "benefit": f"/registry/benefits/{world['benefit']['id']}",
        "case": f"/registry/cases/{world['case']['id']}",
        "change_request": f"/registry/change-requests/{world['change_request']['id']}",
        "candidate": f"/registry/duplicates/{world['candidate']['id']}",
        "grievance": f"/grievance/grievances/{world['grievance']['id']}",
        **{f"isaf.{name}": url.format(world["isaf"][name]["id"])
           for name, url in ISAF_FINGERPRINTED.items()},
        "budget_run": f"/budget/allocation-runs/{world['budget']['run']['id']}",
        "budget_release": f"/budget/releases/{world['budget']['release']['id']}",
        "budget_request": f"/budget/support-requests/{world['budget']['support_request']['id']}",
    }  # fmt: skip
    seen = {}
    async with platform.client("national.officer") as national:
        for name, url in urls.items():
            response = await national.get(url)
            assert response.status_code == 200, (url, response.text)
            seen[name] = (response.headers.get("etag"), response.json().get("status"))
    return seen


async def test_no_route_tells_an_outsider_anything_about_a_record_outside_its_area(
    platform, canary
):
    before = await fingerprint(platform, canary)
    problems: list[str] = []
    for caller in OUTSIDERS:
        async with platform.client(caller, client_ip="198.51.100.90") as client:
            for route, method, url, query in calls(canary):
                headers = {"If-Match": "*", "Idempotency-Key": uuid.uuid4().hex}
                response = await client.request(
                    method, url, params=query, headers=headers,
                    json={} if method in ("POST", "PUT", "PATCH") else None,
                )  # fmt: skip
                where = f"{caller} {method} {url}"
                found = leaked(
                    response.text + str(dict(response.headers)),
                    canary["secrets"],
                    str(response.request.url),
                )
                if found:
                    problems.append(f"{where} -> {response.status_code} shows {found}")
                names_a_record = (
                    "{" in route["path"]
                    and not route.get("public")
                    and route["path"] not in UNSCOPED
                    # The pair is the sibling's to review too: it sees that a match exists
                    # and where it is handled, never whose record it is (checked above).
                    and not (method == "GET" and route["path"] == "/duplicates/{candidate_id}")
                )
                if names_a_record and response.status_code not in SILENT_REFUSALS:
                    problems.append(f"{where} -> {response.status_code}, not a silent refusal")
                if response.status_code >= 500:
                    problems.append(f"{where} -> {response.status_code}")
    # The sibling's reads of its own household, the one that shares the canary's ID and phone.
    async with platform.client("cs.tuek-thla") as sibling:
        for _route, method, url, query in calls(canary, own=canary["twin"]):
            if method != "GET":
                continue
            response = await sibling.get(url, params=query)
            asked = str(response.request.url)
            found = leaked(response.text, canary["secrets"], asked)
            if found:
                problems.append(f"cs.tuek-thla GET {url} (its own) shows {found}")
    assert not problems, "\n".join(problems)
    assert await fingerprint(platform, canary) == before, "an outsider changed a canary record"


async def test_the_canary_records_are_readable_where_the_policy_allows(platform, canary):
    """The positive control: every record-naming read route answers the district above and
    the national officer (where the policy lets them call it), so the refusals above are
    jurisdiction, not a wrong parameter."""
    problems: list[str] = []
    for caller in INSIDERS:
        tier = caller.split(".")[0]
        async with platform.client(caller) as client:
            for route, method, url, query in calls(canary):
                if method != "GET" or "{" not in route["path"] or route.get("public"):
                    continue
                if route["path"] in UNSCOPED:
                    continue
                if tier not in route.get("tiers", []):
                    continue
                response = await client.get(url, params=query)
                if response.status_code == 403:
                    continue  # a role the policy's tier allows but this person lacks
                if response.status_code != 200:
                    problems.append(f"{caller} GET {url} -> {response.status_code}")
    assert not problems, "\n".join(problems)


async def test_both_communes_see_the_pair_but_only_their_own_household(platform, canary):
    """The duplicate queue's nested read: each commune learns that its household matches one
    elsewhere and that Khan Sen Sok decides it; the district, holding both, sees both."""
    candidate = canary["candidate"]["id"]
    seen = {}
    for caller in ("cs.tuek-thla", "cs.phnom-penh-thmei", "dmk.sen-sok"):
        async with platform.client(caller) as client:
            seen[caller] = (await client.get(f"/registry/duplicates/{candidate}")).json()
    twin, household = canary["twin"]["id"], canary["household"]["id"]

    def sides(detail: dict) -> set[str]:
        return {s["id"] for s in (detail["household"], detail["other_household"]) if s}

    assert sides(seen["cs.tuek-thla"]) == {twin}
    assert sides(seen["cs.phnom-penh-thmei"]) == {household}
    assert sides(seen["dmk.sen-sok"]) == {twin, household}
    for detail in seen.values():
        assert detail["handled_by"] == {"tier": "dmk", "admin_code": "1208"}
    assert seen["cs.tuek-thla"]["other_household_withheld"] is True
    assert seen["cs.tuek-thla"]["other_village_code"] is None
