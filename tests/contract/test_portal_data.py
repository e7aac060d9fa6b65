"""What a portal needs besides the document: reference data in Khmer and English, cacheable;
list screens' fields and totals; filters that exist, and refusal of those that do not."""

from __future__ import annotations

import csv
import io
import uuid

from tests.registry.test_households import household_body


async def test_code_lists_carry_both_languages_and_revalidate_with_etag(platform):
    async with platform.client() as portal:
        first = await portal.get(
            "/registry/reference/code-lists", headers={"Accept-Language": "km"}
        )
        assert first.status_code == 200
        lists = {c["name"]: c for c in first.json()["code_lists"]}
        for wanted in ("poverty-levels", "sex", "vulnerabilities", "relationships", "languages"):
            assert wanted in lists, wanted
        poor_1 = next(i for i in lists["poverty-levels"]["items"] if i["code"] == "POOR_1")
        assert poor_1["en"].startswith("Poor level 1") and poor_1["label"] == poor_1["km"]
        again = await portal.get(
            "/registry/reference/code-lists",
            headers={"Accept-Language": "km", "If-None-Match": first.headers["etag"]},
        )
        assert again.status_code == 304 and again.content == b""
        english = await portal.get(
            "/registry/reference/code-lists", headers={"If-None-Match": first.headers["etag"]}
        )
        assert english.status_code == 200, "another language is another representation"

        grievance = await portal.get("/grievance/reference/code-lists/age-groups")
        assert [i["code"] for i in grievance.json()["items"]] == [
            "under_18",
            "18_35",
            "36_59",
            "60_plus",
        ]
        assert all(i["km"] and i["en"] for i in grievance.json()["items"])
        categories = await portal.get("/grievance/reference/code-lists/categories")
        assert categories.status_code == 200 and len(categories.json()["items"]) == 16
        unknown = await portal.get("/registry/reference/code-lists/colours")
        assert unknown.status_code == 404
        assert unknown.headers["content-type"].startswith("application/problem+json")


async def test_gazetteer_tree_and_search(platform):
    async with platform.client() as portal:
        provinces = (await portal.get("/registry/reference/gazetteer")).json()
        assert provinces["total"] == 25 and provinces["items"][0]["code"] == "01"
        khan = await portal.get(
            "/registry/reference/gazetteer/1208", headers={"Accept-Language": "km"}
        )
        body = khan.json()
        assert (
            body["unit"]["level"] == "district" and body["unit"]["name"] == body["unit"]["name_km"]
        )
        assert [p["code"] for p in body["parents"]] == ["12"]
        assert "120801" in [c["code"] for c in body["children"]]
        cached = await portal.get(
            "/registry/reference/gazetteer/1208",
            headers={"Accept-Language": "km", "If-None-Match": khan.headers["etag"]},
        )
        assert cached.status_code == 304
        found = await portal.get(
            "/registry/reference/gazetteer/search", params={"q": "tuek thla", "level": "commune"}
        )
        assert "120802" in [u["code"] for u in found.json()["items"]]
        missing = await portal.get("/registry/reference/gazetteer/99")
        assert missing.status_code == 404


async def test_household_list_items_show_head_members_village_and_a_total(
    platform, clean_databases
):
    async with platform.client("cs.phnom-penh-thmei") as commune:
        created = await commune.post("/registry/households", json=household_body())
        assert created.status_code == 201, created.text
        listed = await commune.get("/registry/households", headers={"Accept-Language": "km"})
    page = listed.json()
    assert page["total"] == 1 and page["total_capped"] is False
    item = page["items"][0]
    head = created.json()["members"][0]
    assert item["head_name_km"] == f"{head['family_name_km']} {head['given_name_km']}"
    assert item["head_name_latin"] == f"{head['family_name_latin']} {head['given_name_latin']}"
    assert item["member_count"] == 3
    assert item["village_name"] and item["village_name"] != created.json()["village_code"]


async def test_unknown_query_parameters_are_refused_naming_them(platform):
    async with platform.client("cs.phnom-penh-thmei") as commune:
        refused = await commune.get("/registry/households", params={"villge": "12080102"})
        grievances = await commune.get("/grievance/grievances", params={"tracking": "X"})
    for response, name in ((refused, "villge"), (grievances, "tracking")):
        assert response.status_code == 400, response.text
        problem = response.json()
        assert problem["errors"][0]["field"] == f"query.{name}"
        assert problem["instance"].startswith(("/registry/", "/grievance/"))


async def test_members_search_takes_the_commune_officers_own_district(platform, clean_databases):
    async with platform.client("cs.phnom-penh-thmei") as commune:
        await commune.post("/registry/households", json=household_body())
        found = await commune.get("/registry/members/search", params={"q": "Dara"})
    async with platform.client("national.officer") as national:
        needs_district = await national.get("/registry/members/search", params={"q": "Dara"})
    assert found.status_code == 200, found.text
    assert found.json()["items"]
    assert needs_district.status_code == 422
    assert needs_district.json()["errors"][0]["field"] == "query.district"


async def test_handlers_find_a_grievance_by_tracking_code_and_answers_are_utf8(
    platform, clean_databases
):
    async with platform.client() as citizen:
        submitted = await citizen.post(
            "/grievance/public/grievances",
            json={
                "category": "payment_problem",
                "description": "ប្រាក់ខែមេសាមិនទាន់បានទទួល",
                "location_code": "120801",
                "anonymous": True,
            },
        )
    code = submitted.json()["tracking_code"]
    async with platform.client("cs.phnom-penh-thmei") as commune:
        recorded = await commune.post(
            "/grievance/grievances",
            json={
                "category": "payment_problem",
                "description": "ប្រាក់ខែមេសាមិនទាន់បានទទួល",
                "channel": "commune_office",
                "location_code": "120801",
                "complainant": {"name": "សុខ ដារ៉ា"},
            },
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        by_code = await commune.get("/grievance/grievances", params={"tracking_code": code.lower()})
        nothing = await commune.get("/grievance/grievances", params={"tracking_code": "NOT-A-CODE"})
        report = await commune.get(
            "/grievance/reports/grievances",
            params={"from": "2020-01-01", "to": "2029-12-31", "format": "csv"},
            headers={"Accept-Language": "km"},
        )
    assert recorded.status_code == 201, recorded.text
    assert "ប្រាក់ខែ".encode() in recorded.content and b"\\u" not in recorded.content
    assert [g["tracking_code"] for g in by_code.json()["items"]] == [code]
    assert by_code.json()["total"] == 1
    assert nothing.json()["items"] == []
    assert report.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(report.content.decode("utf-8-sig"))))
    assert rows[0] == ["លេខកូដរង្វាស់", "រង្វាស់", "លេខកូដ", "ធាតុ", "តម្លៃ"]
    category = next(r for r in rows if r[0] == "by_category" and r[2] == "payment_problem")
    assert category[3] == "បញ្ហាការទូទាត់ប្រាក់" and category[4] == "2"


async def test_grievance_report_json_has_the_registry_reports_shape(platform, clean_databases):
    async with platform.client("dmk.sen-sok") as district:
        report = await district.get(
            "/grievance/reports/grievances", params={"from": "2026-01-01", "to": "2026-01-31"}
        )
    body = report.json()
    assert body["area_detail"] == {
        "code": "1208",
        "level": "district",
        "name": body["area_detail"]["name"],
    }
    assert [c["key"] for c in body["columns"]] == [
        "measure",
        "measure_label",
        "code",
        "label",
        "value",
    ]
    assert {
        "measure": "total",
        "measure_label": "Grievances",
        "code": "",
        "label": "",
        "value": 0,
    } in body["rows"]


async def test_a_public_form_can_list_the_programmes(platform, clean_databases):
    async with platform.client() as portal:
        listed = await portal.get(
            "/registry/reference/programmes", headers={"Accept-Language": "km"}
        )
        again = await portal.get(
            "/registry/reference/programmes",
            headers={"Accept-Language": "km", "If-None-Match": listed.headers["etag"]},
        )
    body = listed.json()
    assert listed.status_code == 200 and body["total"] == len(body["items"]) > 0
    assert all(p["name"] == p["name_km"] and p["name_en"] for p in body["items"])
    assert again.status_code == 304


async def test_every_paginated_list_counts_its_total(platform, clean_databases):
    """`paginate` counts for the `Page` of its request: lists need no code of their own."""
    async with platform.client("cs.phnom-penh-thmei") as commune:
        programmes = (await commune.get("/registry/programmes", params={"limit": 1})).json()
        cases = (await commune.get("/registry/cases")).json()
    assert programmes["total"] > 1 and len(programmes["items"]) == 1
    assert programmes["next_cursor"] and programmes["total_capped"] is False
    assert cases["total"] == 0 and cases["items"] == []
