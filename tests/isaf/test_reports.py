"""Reports reproduce exactly what was recorded, under their stated counting rules, for the
caller's subtree only; JSON and CSV."""

from __future__ import annotations

import csv
import io
import uuid

from tests.isaf.conftest import (
    CP_BANTEAY_MEANCHEY,
    CS_PHNOM_PENH_THMEI,
    CS_TUEK_THLA,
    DMK_SEN_SOK,
    NATIONAL,
    YEAR,
    activity,
    caf,
    cycle,
    facility,
    participation,
    sitting,
)


async def record_year(service) -> dict:
    """Two sangkats and the khan itself: known totals."""
    async with service.client(DMK_SEN_SOK) as district:
        cafs = [
            await caf(district, "120801", name="A", sex="female"),
            await caf(district, "120801", name="B", sex="male"),
            await caf(district, "120802", name="C", sex="female"),
        ]
        for starts in (f"{YEAR}-02-01", f"{YEAR}-08-01"):  # A is trained twice: counts once
            body = {"location_code": "1208", "audience": "caf", "topics": ["I-SAF"],
                    "starts_on": starts, "ends_on": starts, "venue": "Khan hall",
                    "attendees_total": 3, "attendees_female": 2, "attendees_male": 1,
                    "caf_ids": [c["id"] for c in cafs] if starts.endswith("02-01")
                    else [cafs[0]["id"]]}  # fmt: skip
            assert (await district.post("/trainings", json=body)).status_code == 201
        cycles = {code: await cycle(district, code) for code in ("120801", "120802", "1208")}
        health = await facility(district, "120801", "health_centre")
        khan = await facility(district, "1208", "khan_administration")
        await activity(district, cycles["120801"]["id"], "i4c_dissemination",
                       participants=participation(50, 30, 19))  # one of another sex  # fmt: skip
        await activity(district, cycles["120802"]["id"], "i4c_dissemination",
                       participants=participation(40, 20, 20))  # fmt: skip
        await activity(district, cycles["120802"]["id"], "door_to_door",
                       participants=participation(25, 15, 10), booklets=25)  # fmt: skip
        await activity(district, cycles["120801"]["id"], "public_forum",
                       participants=participation(70, 40, 30))  # fmt: skip
        await activity(district, cycles["1208"]["id"], "interface_meeting",
                       participants=participation(30, 10, 20))  # fmt: skip
        for facility_row, cycle_row, kind, scores in (
            (health, cycles["120801"], "community", [4, 3, 5, 2]),
            (health, cycles["120801"], "self_assessment", [5, 5, 4]),
            (khan, cycles["1208"], "community", [2, 3]),
        ):
            codes = ("HC01", "HC04") if facility_row is health else ("KH01",)
            url = f"/scorecards/{uuid.uuid4()}"
            r = await district.put(
                f"{url}/sitting",
                json=sitting(cycle_row["id"], facility_row["id"], kind=kind, scores=scores,
                             codes=codes),
            )  # fmt: skip
            assert r.status_code == 201, r.text
            etag = r.headers["etag"]
            for status in ("in_review", "completed"):
                r = await district.post(f"{url}/status", json={"status": status},
                                        headers={"If-Match": etag})  # fmt: skip
                etag = r.headers["etag"]
        actions = [{"description": f"Action {i}", "responsible_party": "Council",
                    "responsible_tier": "cs", "deadline": f"{YEAR}-12-01"}
                   for i in range(4)]  # fmt: skip
        jaap = (await district.post("/jaaps", json={
            "cycle_id": cycles["120801"]["id"], "adopted_on": f"{YEAR}-06-01",
            "actions": actions})).json()  # fmt: skip
        for action, status in zip(jaap["actions"], ("completed", "completed", "dropped"),
                                  strict=False):  # fmt: skip
            r = await district.post(
                f"/jaap-actions/{action['id']}/status", headers={"If-Match": '"1"'},
                json={"status": status, "note": "Done",
                      "reason": "No land" if status == "dropped" else None},
            )  # fmt: skip
            assert r.status_code == 200, r.text
    return cycles


def summary_value(report: dict, measure: str, column: str):
    [row] = [r for r in report["rows"] if r["measure"] == measure]
    return row[column]


async def test_the_summary_table_reproduces_the_records_with_its_counting_rules(service):
    await record_year(service)
    async with service.client(DMK_SEN_SOK) as district:
        response = await district.get(
            "/reports/summary", params={"from_year": YEAR - 1, "to_year": YEAR}
        )
    assert response.status_code == 200, response.text
    report = response.json()
    y = str(YEAR)
    expected = {
        "i4c_disseminations": 2, "i4c_participants": 90, "i4c_women": 50,
        "door_to_door_rounds": 1, "door_to_door_people": 25, "booklets": 25,
        "scorecards": 2, "scorecard_participants": 6, "scorecard_women": 3,
        "self_assessments": 1, "self_assessment_providers": 3, "self_assessment_women": 2,
        "interface_meetings": 1, "interface_meeting_participants": 30,
        "interface_meeting_women": 10, "jaaps": 1, "public_forums": 1,
        "public_forum_participants": 70, "public_forum_women": 40,
        "cafs_trained": 3, "cafs_trained_women": 2, "actions_adopted": 4,
        "actions_completed": 2, "actions_dropped": 1, "completion_rate": 0.5,
    }  # fmt: skip
    for measure, value in expected.items():
        assert summary_value(report, measure, y) == value, measure
        assert summary_value(report, measure, "total") == value, measure
    assert summary_value(report, "i4c_disseminations", str(YEAR - 1)) == 0
    assert "dropped actions stay" in report["counting_rules"]["jaap_completion"].lower()
    assert "mean of the two middle votes" in report["counting_rules"]["median_even_votes"]
    assert {"door_to_door", "khan_level_records", "cafs_trained", "sex"} <= set(
        report["counting_rules"]
    )


async def test_a_sangkat_sees_its_own_figures_and_the_khans_records_roll_up_only_to_the_khan(
    service,
):
    await record_year(service)
    params = {"from_year": YEAR, "to_year": YEAR}
    async with service.client(CS_PHNOM_PENH_THMEI) as commune:
        own = (await commune.get("/reports/summary", params=params)).json()
        refused = await commune.get("/reports/summary", params={**params, "location": "120802"})
        assert refused.status_code == 404
    assert summary_value(own, "i4c_participants", "total") == 50
    assert summary_value(own, "interface_meetings", "total") == 0  # the khan's own, not here
    assert summary_value(own, "scorecards", "total") == 1
    assert summary_value(own, "cafs_trained", "total") == 2
    async with service.client(CP_BANTEAY_MEANCHEY) as other:
        nothing = (await other.get("/reports/summary", params=params)).json()
    assert summary_value(nothing, "i4c_participants", "total") == 0
    async with service.client(NATIONAL) as national:
        everything = (await national.get("/reports/summary", params=params)).json()
    assert summary_value(everything, "interface_meetings", "total") == 1


async def test_participation_medians_and_completion_reports_with_csv(service):
    await record_year(service)
    params = {"from_year": YEAR, "to_year": YEAR}
    async with service.client(DMK_SEN_SOK) as district:
        participation_report = (await district.get("/reports/participation", params=params)).json()
        medians = (await district.get("/reports/scorecard-results", params=params)).json()
        completion = (await district.get("/reports/jaap-completion", params=params)).json()
        as_csv = await district.get(
            "/reports/participation", params={**params, "format": "csv"},
            headers={"Accept-Language": "km"},
        )  # fmt: skip
        cafs = (await district.get("/reports/cafs", params=params)).json()
        bad = await district.get(
            "/reports/summary", params={"from_year": YEAR, "to_year": YEAR - 2}
        )
    forum = [r for r in participation_report["rows"] if r["activity_type"] == "i4c_dissemination"]
    assert forum[0]["participants"] == 90 and forum[0]["other_sex"] == 1
    hc04 = [
        r for r in medians["rows"] if r["indicator_code"] == "HC04" and r["kind"] == "community"
    ]
    assert hc04[0]["median"] == 3.5 and hc04[0]["votes"] == 4
    [year] = completion["rows"]
    assert (year["actions_adopted"], year["actions_completed"], year["actions_dropped"]) == (
        4,
        2,
        1,
    )
    assert year["completion_rate"] == 0.5
    assert as_csv.headers["content-type"].startswith("text/csv")
    header = next(csv.reader(io.StringIO(as_csv.text)))
    assert header[0] == "ឆ្នាំ" and "ស្ត្រី" in header
    rows = {(r["location_code"], r["year"]): r for r in cafs["rows"]}
    assert rows[("120801", "all")]["cafs_trained"] == 2
    assert rows[("120801", YEAR)]["cafs_trained"] == 2
    assert rows[("120802", "all")]["cafs_active"] == 1
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "to_year"


async def test_a_sibling_sees_none_of_another_sangkats_figures(service):
    await record_year(service)
    async with service.client(CS_TUEK_THLA) as sibling:
        report = (
            await sibling.get("/reports/summary", params={"from_year": YEAR, "to_year": YEAR})
        ).json()
    assert summary_value(report, "public_forums", "total") == 0
    assert summary_value(report, "i4c_participants", "total") == 40


async def test_scorecard_medians_per_indicator_over_the_years(service):
    async with service.client(CS_PHNOM_PENH_THMEI) as commune:
        health = await facility(commune, "120801", "health_centre")
        for year, scores in ((YEAR - 1, [1, 2, 2, 3]), (YEAR, [4, 5])):
            c = await cycle(commune, "120801", year)
            url = f"/scorecards/{uuid.uuid4()}"
            r = await commune.put(
                f"{url}/sitting",
                json=sitting(c["id"], health["id"], scores=scores, codes=("HC04",),
                             held_on=f"{year}-04-01"),
            )  # fmt: skip
            etag = r.headers["etag"]
            for status in ("in_review", "completed"):
                r = await commune.post(f"{url}/status", json={"status": status},
                                       headers={"If-Match": etag})  # fmt: skip
                etag = r.headers["etag"]
        report = (
            await commune.get(
                "/reports/scorecard-results", params={"from_year": YEAR - 1, "to_year": YEAR}
            )
        ).json()
    medians = [(r["year"], r["indicator_code"], r["votes"], r["median"]) for r in report["rows"]]
    assert medians == [(YEAR - 1, "HC04", 4, 2.0), (YEAR, "HC04", 2, 4.5)]


async def test_cafs_marked_inactive_leave_the_active_count(service):
    async with service.client(CS_PHNOM_PENH_THMEI) as commune:
        kept = await caf(commune, name="Kept")
        left = await caf(commune, name="Left", sex="male")
        response = await commune.patch(
            f"/cafs/{left['id']}", json={"active": False}, headers={"If-Match": '"1"'}
        )
        assert response.status_code == 200 and response.json()["active"] is False
        report = (
            await commune.get("/reports/cafs", params={"from_year": YEAR, "to_year": YEAR})
        ).json()
    [row] = report["rows"]
    assert (row["cafs_registered"], row["cafs_active"], row["cafs_active_women"]) == (2, 1, 1)
    assert kept["active"] is True
