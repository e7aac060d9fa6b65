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
        }
    )
    return world


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
        ("/reference/code-lists/{name}", "name"): "sex",
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
    "/reference/gazetteer/search": {"q": "Mongkol"},
}


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
            value = values.get((path, name)) or values.get((service, name))
            assert value, f"{service} {path}: map {{{name}}} in path_values()"
            url = url.replace(f"{{{name}}}", value)
        query = dict(QUERIES.get(path, {}))
        if "household_code" in query:
            query["household_code"] = world["household"]["code"]
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
    }
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
