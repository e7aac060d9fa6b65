"""Reports: households and members by IDPoor level, sex and age group for the caller's area,
as JSON and CSV, counted exactly, inside the caller's jurisdiction only."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest

from services.registry.benefits.models import BenefitRecord
from services.registry.enrolments.models import Enrolment
from services.registry.reports.service import age_bounds, period_range, years_before
from shared.principal import Principal
from tests.harness import (
    CP_BANTEAY_MEANCHEY,
    CP_PHNOM_PENH,
    CS_PHNOM_PENH_THMEI,
    CS_TUEK_THLA,
    DMK_SEN_SOK,
    NATIONAL,
)
from tests.registry.conftest import as_
from tests.registry.factories import (
    VILLAGE_BANTEAY_MEANCHEY,
    VILLAGE_PHNOM_PENH_THMEI,
    VILLAGE_TUEK_THLA,
    RegistryRows,
    make_household,
    member,
)

REFERENCE = date(2026, 11, 21)
# Another village of Sangkat Phnom Penh Thmei, to see the per-village breakdown.
VILLAGE_PHNOM_PENH_THMEI_2 = "12080101"


def born(age_years: int, *, days_later: int = 0) -> date:
    """Birth date of someone `age_years` old on REFERENCE (plus days: younger by that much)."""
    return REFERENCE.replace(year=REFERENCE.year - age_years) + timedelta(days=days_later)


async def known_dataset(infrastructure) -> None:
    """A small registry whose counts the tests know by heart."""
    async with RegistryRows(infrastructure.database_url("registry")) as session:
        # Phnom Penh Thmei, village 12080102: a POOR_1 household of four.
        await make_household(
            session,
            village_code=VILLAGE_PHNOM_PENH_THMEI,
            poverty_level="POOR_1",
            members=[
                member(relationship="head", sex="female", birth_date=born(34)),
                member(relationship="spouse", sex="male", birth_date=born(60)),  # 60 today
                member(relationship="child", sex="female", birth_date=born(1)),
                member(relationship="child", sex="male", birth_date=born(2, days_later=1)),  # 1
            ],
        )
        # Same village: a POOR_2 household of two, one member deceased (not counted).
        await make_household(
            session,
            village_code=VILLAGE_PHNOM_PENH_THMEI,
            poverty_level="POOR_2",
            members=[
                member(relationship="head", sex="male", birth_date=born(17)),
                member(relationship="parent", sex="female", birth_date=born(80), status="deceased"),
            ],
        )
        # Another village of the same commune: a NOT_POOR household, and a pending one.
        await make_household(
            session,
            village_code=VILLAGE_PHNOM_PENH_THMEI_2,
            poverty_level="NOT_POOR",
            members=[
                member(relationship="head", sex="male", birth_date=born(15)),
                member(relationship="sibling", sex="female", birth_date=born(6)),
                # Born after the reference date: not yet counted on it.
                member(relationship="child", sex="male", birth_date=date(2027, 1, 1)),
            ],
        )
        await make_household(
            session,
            village_code=VILLAGE_PHNOM_PENH_THMEI_2,
            status="pending_verification",
            members=[member(relationship="head", sex="female", birth_date=born(5))],
        )
        # The sibling commune and another province.
        await make_household(
            session,
            village_code=VILLAGE_TUEK_THLA,
            poverty_level="POOR_1",
            members=[member(relationship="head", sex="female", birth_date=born(59))],
        )
        await make_household(
            session,
            village_code=VILLAGE_BANTEAY_MEANCHEY,
            poverty_level="POOR_2",
            members=[member(relationship="head", sex="male", birth_date=born(40))],
        )


def row(report: dict, location: str, level: str = "ALL") -> dict:
    [found] = [
        r for r in report["rows"] if r["location_code"] == location and r["poverty_level"] == level
    ]
    return found


AGE_GROUPS = ("0_1", "2_5", "6_14", "15_17", "18_59", "60_plus")
COUNT_KEYS = [
    "households",
    "members",
    "members_female",
    "members_male",
    *(f"{who}_age_{group}" for who in ("members", "female", "male") for group in AGE_GROUPS),
]


def counts(report: dict, location: str, level: str = "ALL") -> dict:
    """The non-zero counts of one row."""
    return {k: v for k, v in row(report, location, level).items() if k in COUNT_KEYS and v}


async def get_report(app, principal, **params) -> dict:
    params.setdefault("reference_date", REFERENCE.isoformat())
    async with as_(app, principal) as client:
        response = await client.get("/reports/households", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    return body


# -- counts ----------------------------------------------------------------------------------


async def test_a_district_report_counts_each_commune_by_level_sex_and_age(app, infrastructure):
    await known_dataset(infrastructure)
    report = await get_report(app, DMK_SEN_SOK)

    assert report["area"] == {"code": "1208", "level": "district", "name": "Sen Sok"}
    assert report["breakdown_level"] == "commune"
    assert report["household_status"] == ["active"]
    # The POOR_1 household: a woman of 34, a man of 60 today, a girl of 1, a boy a day short
    # of 2 (still in 0-1).
    assert counts(report, "120801", "POOR_1") == {
        "households": 1,
        "members": 4,
        "members_female": 2,
        "members_male": 2,
        "members_age_0_1": 2,
        "members_age_18_59": 1,
        "members_age_60_plus": 1,
        "female_age_0_1": 1,
        "female_age_18_59": 1,
        "male_age_0_1": 1,
        "male_age_60_plus": 1,
    }
    # The POOR_2 household: its deceased member is not counted.
    assert counts(report, "120801", "POOR_2") == {
        "households": 1,
        "members": 1,
        "members_male": 1,
        "members_age_15_17": 1,
        "male_age_15_17": 1,
    }
    # The pending household is not active; the member born after the reference date is left out.
    assert counts(report, "120801", "NOT_POOR") == {
        "households": 1,
        "members": 2,
        "members_female": 1,
        "members_male": 1,
        "members_age_6_14": 1,
        "members_age_15_17": 1,
        "female_age_6_14": 1,
        "male_age_15_17": 1,
    }
    assert counts(report, "120801", "UNASSESSED") == {}
    assert counts(report, "120801")["households"] == 3
    assert counts(report, "120801")["members"] == 7
    assert counts(report, "120802") == {
        "households": 1,
        "members": 1,
        "members_female": 1,
        "members_age_18_59": 1,
        "female_age_18_59": 1,
    }
    # Totals of the district: the sum of its communes; nothing from another province.
    total = counts(report, "1208")
    assert total["households"] == 4 and total["members"] == 8
    assert total["members_female"] == 4 and total["members_male"] == 4
    assert counts(report, "1208", "POOR_1")["households"] == 2
    # Every commune of Sen Sok appears at every level (zeros included), then the totals.
    communes = ["120801", "120802", "120803", "120807", "120808", "120809"]
    assert [r["location_code"] for r in report["rows"]] == [
        code for code in [*communes, "1208"] for _ in range(5)
    ]
    assert [r["poverty_level"] for r in report["rows"][:5]] == [
        "POOR_1",
        "POOR_2",
        "NOT_POOR",
        "UNASSESSED",
        "ALL",
    ]
    assert counts(report, "120803") == {}
    # Each column is the sum of the units' rows.
    for level in ("POOR_1", "POOR_2", "NOT_POOR", "UNASSESSED", "ALL"):
        for key in COUNT_KEYS:
            assert row(report, "1208", level)[key] == sum(
                row(report, code, level)[key] for code in communes
            )


async def test_a_commune_report_is_broken_down_by_village_and_filters_by_status(
    app, infrastructure
):
    await known_dataset(infrastructure)
    report = await get_report(app, CS_PHNOM_PENH_THMEI)
    assert report["area"]["code"] == "120801" and report["breakdown_level"] == "village"
    assert counts(report, VILLAGE_PHNOM_PENH_THMEI)["households"] == 2
    assert counts(report, VILLAGE_PHNOM_PENH_THMEI)["members"] == 5
    assert counts(report, VILLAGE_PHNOM_PENH_THMEI_2)["households"] == 1

    pending = await get_report(app, CS_PHNOM_PENH_THMEI, status="pending_verification")
    assert pending["household_status"] == ["pending_verification"]
    assert counts(pending, VILLAGE_PHNOM_PENH_THMEI_2, "UNASSESSED") == {
        "households": 1,
        "members": 1,
        "members_female": 1,
        "members_age_2_5": 1,
        "female_age_2_5": 1,
    }
    assert counts(pending, "120801", "ALL")["households"] == 1

    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        both = await client.get(
            "/reports/households?status=active&status=pending_verification"
            f"&reference_date={REFERENCE}"
        )
    assert both.json()["household_status"] == ["active", "pending_verification"]
    assert counts(both.json(), "120801")["households"] == 4


async def test_ages_are_computed_at_the_reference_date(app, infrastructure):
    await known_dataset(infrastructure)
    day_before = await get_report(
        app, DMK_SEN_SOK, reference_date=(REFERENCE - timedelta(days=1)).isoformat()
    )
    # The man turning 60 on REFERENCE is still 59 the day before.
    assert row(day_before, "120801", "POOR_1")["members_age_60_plus"] == 0
    assert row(day_before, "120801", "POOR_1")["members_age_18_59"] == 2
    next_year = await get_report(app, DMK_SEN_SOK, reference_date="2027-11-21")
    # The boy born on 2027-01-01 now counts (0-1); both POOR_1 children are 2-5.
    assert counts(next_year, "120801", "NOT_POOR")["members_age_0_1"] == 1
    assert counts(next_year, "120801", "POOR_1")["members_age_2_5"] == 2
    assert row(next_year, "120801", "POOR_1")["members_age_0_1"] == 0


async def test_the_reference_date_defaults_to_today(app, infrastructure):
    async with as_(app, DMK_SEN_SOK) as client:
        response = await client.get("/reports/households")
    assert response.status_code == 200
    assert date.fromisoformat(response.json()["reference_date"]) >= REFERENCE


def test_age_groups_on_a_leap_day_and_month_ranges_across_years():
    # On 29 February 2028 a child born on 28 February 2026 has turned 2; one born on
    # 1 March 2026 has not.
    bounds = {key: (after, by) for key, after, by in age_bounds(date(2028, 2, 29))}
    assert bounds["0_1"] == (date(2026, 2, 28), date(2028, 2, 29))
    assert bounds["2_5"] == (date(2022, 2, 28), date(2026, 2, 28))
    assert bounds["60_plus"] == (None, date(1968, 2, 29))
    assert years_before(date(2028, 2, 29), 1) == date(2027, 2, 28)
    months = period_range("2025-11", "2026-02")
    assert [m.isoformat() for m in months] == [
        "2025-11-01",
        "2025-12-01",
        "2026-01-01",
        "2026-02-01",
    ]


# -- labels and CSV --------------------------------------------------------------------------


async def test_labels_and_location_names_follow_accept_language(app, infrastructure):
    await known_dataset(infrastructure)
    async with as_(app, DMK_SEN_SOK) as client:
        khmer = (
            await client.get("/reports/households", headers={"Accept-Language": "km-KH, en;q=0.5"})
        ).json()
        english = (
            await client.get("/reports/households", headers={"Accept-Language": "fr, en;q=0.8"})
        ).json()
    assert khmer["language"] == "km" and english["language"] == "en"
    assert khmer["area"]["name"] == "សែនសុខ"
    assert row(khmer, "120802")["location_name"] == "ទឹកថ្លា"
    assert row(english, "120802")["location_name"] == "Tuek Thla"
    assert row(khmer, "120801", "POOR_1")["poverty_level_label"].startswith("ក្រីក្រកម្រិត ១")
    assert row(english, "120801", "NOT_POOR")["poverty_level_label"] == "Not poor"
    assert row(khmer, "1208")["location_name"] == "សរុប"
    labels = {c["key"]: c["label"] for c in khmer["columns"]}
    assert labels["members_female"] == "សមាជិក: ស្រី"
    assert labels["male_age_60_plus"] == "ប្រុស អាយុ 60+"
    assert {c["key"]: c["label"] for c in english["columns"]}["female_age_0_1"] == (
        "Female aged 0-1"
    )


def parse_csv(response) -> list[list[str]]:
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs for Khmer
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def as_table(report: dict) -> list[list[str]]:
    keys = [c["key"] for c in report["columns"]]
    return [[c["label"] for c in report["columns"]]] + [
        [str(r[key]) for key in keys] for r in report["rows"]
    ]


async def test_csv_holds_the_same_table_as_json(app, infrastructure):
    await known_dataset(infrastructure)
    params = {"reference_date": REFERENCE.isoformat()}
    async with as_(app, DMK_SEN_SOK) as client:
        for language in ("km", "en"):
            headers = {"Accept-Language": language}
            as_json = await client.get("/reports/households", params=params, headers=headers)
            by_accept = await client.get(
                "/reports/households", params=params, headers={**headers, "Accept": "text/csv"}
            )
            by_param = await client.get(
                "/reports/households", params={**params, "format": "csv"}, headers=headers
            )
            table = as_table(as_json.json())
            assert parse_csv(by_accept) == table
            assert parse_csv(by_param) == table
        assert by_accept.headers["content-disposition"] == (
            'attachment; filename="households-1208-2026-11-21.csv"'
        )
        assert table[0][:2] == ["Location code", "Location"]
        # ?format= wins over Accept; JSON is preferred when both are equally acceptable.
        forced = await client.get(
            "/reports/households",
            params={**params, "format": "json"},
            headers={"Accept": "text/csv"},
        )
        either = await client.get(
            "/reports/households", params=params, headers={"Accept": "application/json, text/csv"}
        )
        preferred = await client.get(
            "/reports/households",
            params=params,
            headers={"Accept": "application/json;q=0.5, text/csv"},
        )
    assert forced.headers["content-type"] == "application/json"
    assert either.headers["content-type"] == "application/json"
    assert preferred.headers["content-type"].startswith("text/csv")


# -- jurisdiction ----------------------------------------------------------------------------


async def test_each_caller_sees_only_its_own_area(app, infrastructure):
    await known_dataset(infrastructure)
    own = await get_report(app, CS_PHNOM_PENH_THMEI)
    sibling = await get_report(app, CS_TUEK_THLA)
    district = await get_report(app, DMK_SEN_SOK)
    other_province = await get_report(app, CP_BANTEAY_MEANCHEY)
    national = await get_report(app, NATIONAL)

    assert counts(own, "120801")["households"] == 3
    assert {r["location_code"][:6] for r in own["rows"]} == {"120801"}
    assert counts(sibling, "120802")["households"] == 1
    assert counts(sibling, "120802")["members"] == 1
    assert {r["location_code"][:6] for r in sibling["rows"]} == {"120802"}
    assert counts(district, "1208")["households"] == 4
    assert other_province["area"]["code"] == "01"
    assert counts(other_province, "01") == {
        "households": 1,
        "members": 1,
        "members_male": 1,
        "members_age_18_59": 1,
        "male_age_18_59": 1,
    }
    assert counts(other_province, "0102")["households"] == 1
    assert national["area"] == {"code": "", "level": "country", "name": "Cambodia"}
    assert national["breakdown_level"] == "province"
    assert counts(national, "12")["households"] == 4
    assert counts(national, "01")["households"] == 1
    assert counts(national, "")["households"] == 5
    assert len(national["rows"]) == (25 + 1) * 5


async def test_location_narrows_inside_ones_area_and_is_404_outside_it(app, infrastructure):
    await known_dataset(infrastructure)
    narrowed = await get_report(app, DMK_SEN_SOK, location="120801")
    assert narrowed["area"]["code"] == "120801" and narrowed["breakdown_level"] == "village"
    assert counts(narrowed, "120801")["households"] == 3
    assert counts(narrowed, VILLAGE_PHNOM_PENH_THMEI)["households"] == 2
    own = await get_report(app, CS_PHNOM_PENH_THMEI, location="120801")
    assert counts(own, "120801") == counts(narrowed, "120801")
    province = await get_report(app, NATIONAL, location="12")
    assert province["breakdown_level"] == "district"
    assert counts(province, "1208")["households"] == 4
    phnom_penh = await get_report(app, CP_PHNOM_PENH, location="1208")
    assert counts(phnom_penh, "1208")["households"] == 4

    for principal, location in [
        (CS_TUEK_THLA, "120801"),  # the sibling commune
        (CS_PHNOM_PENH_THMEI, "1208"),  # its own district is wider than its area
        (CP_BANTEAY_MEANCHEY, "1208"),  # another province
        (DMK_SEN_SOK, "12"),
    ]:
        async with as_(app, principal) as client:
            response = await client.get("/reports/households", params={"location": location})
        assert "was not found" in assert_problem(response, 404)["detail"]


async def test_machine_clients_get_no_report(app):
    machine = Principal(
        sub="moh-health-equity", client=True, scopes=frozenset({"registry.verification.read"})
    )
    async with as_(app, machine) as client:
        response = await client.get("/reports/households")
    assert_problem(response, 403)


# -- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field", "reason"),
    [
        ({"location": "99"}, "location", "not a province in the NCDD gazetteer"),
        ({"location": "12x"}, "location", "must be 2, 4, 6 or 8 digits"),
        ({"location": VILLAGE_PHNOM_PENH_THMEI}, "location", "a village has no smaller units"),
        ({"reference_date": "2026-13-01"}, "reference_date", "valid date"),
        ({"status": "sleeping"}, "status.0", "'pending_verification'"),
        ({"format": "xml"}, "format", "'json' or 'csv'"),
    ],
)
async def test_bad_parameters_are_problems_naming_the_field(app, params, field, reason):
    async with as_(app, DMK_SEN_SOK) as client:
        response = await client.get("/reports/households", params=params)
    body = assert_problem(response, 422)
    [error] = body["errors"]
    assert error["field"] == f"query.{field}"
    assert reason in error["reason"]


async def test_an_accept_header_allowing_neither_json_nor_csv_is_406(app):
    async with as_(app, DMK_SEN_SOK) as client:
        response = await client.get("/reports/households", headers={"Accept": "application/xml"})
    body = assert_problem(response, 406)
    assert body["errors"][0]["field"] == "header.Accept"


# -- enrolments and benefits -----------------------------------------------------------------


async def known_provision(infrastructure) -> None:
    """Enrolments and benefit records on a small registry whose counts the tests know."""
    async with RegistryRows(infrastructure.database_url("registry")) as session:
        poor_1 = await make_household(session, poverty_level="POOR_1")
        poor_2 = await make_household(session, poverty_level="POOR_2")
        sibling = await make_household(session, village_code=VILLAGE_TUEK_THLA)
        elsewhere = await make_household(session, village_code=VILLAGE_BANTEAY_MEANCHEY)

        def enrol(household, programme, status, **fields) -> Enrolment:
            enrolment = Enrolment(
                programme_code=programme, household_id=household.id, status=status, **fields
            )
            session.add(enrolment)
            return enrolment

        def benefit(enrolment, month: str, status: str, **fields) -> None:
            year, number = month.split("-")
            session.add(
                BenefitRecord(
                    enrolment_id=enrolment.id,
                    period=month,
                    period_start=date(int(year), int(number), 1),
                    status=status,
                    **({"amount_khr": 80_000, "channel": "cash_wing"} | fields),
                )
            )

        family = enrol(poor_1, "FAMILY_PACKAGE", "enrolled", enrolled_on=date(2026, 3, 1))
        enrol(poor_1, "HEALTH_EQUITY_FUND", "enrolled", enrolled_on=date(2025, 6, 1))
        food = enrol(
            poor_1,
            "FOOD_AID",
            "exited",
            enrolled_on=date(2025, 6, 1),
            exited_on=date(2026, 6, 15),
        )
        enrol(poor_2, "FAMILY_PACKAGE", "proposed")
        enrol(poor_2, "DISABILITY_ALLOWANCE", "rejected", failing_rules=["disability"])
        sibling_family = enrol(sibling, "FAMILY_PACKAGE", "suspended", enrolled_on=date(2026, 1, 5))
        elsewhere_family = enrol(elsewhere, "FAMILY_PACKAGE", "enrolled")
        await session.flush()
        benefit(family, "2025-12", "paid")  # before the range
        benefit(family, "2026-09", "paid", delivered_on=date(2026, 9, 10))
        benefit(family, "2026-10", "failed")
        benefit(family, "2026-11", "returned")
        benefit(
            food,
            "2026-04",
            "paid",
            amount_khr=None,
            in_kind_item="Rice, 50 kg",
            channel="in_kind",
        )
        benefit(sibling_family, "2026-09", "paid")
        benefit(elsewhere_family, "2026-09", "paid")


RANGE = {"from": "2026-01", "to": "2026-12"}
ENROLMENT_KEYS = [
    "enrolments",
    "proposed",
    "enrolled",
    "suspended",
    "exited",
    "rejected",
    "enrolled_in_period",
    "exited_in_period",
]
BENEFIT_KEYS = [
    "benefits",
    "amount_khr",
    "scheduled",
    "paid",
    "paid_amount_khr",
    "failed",
    "returned",
]


def enrolment_counts(report: dict, location: str, programme: str = "ALL") -> dict:
    [found] = [
        r
        for r in report["enrolments"]["rows"]
        if r["location_code"] == location and r["programme_code"] == programme
    ]
    return {k: v for k, v in found.items() if k in ENROLMENT_KEYS and v}


def benefit_counts(report: dict, location: str, programme: str = "ALL", period="ALL") -> dict:
    [found] = [
        r
        for r in report["benefits"]["rows"]
        if r["location_code"] == location
        and r["programme_code"] == programme
        and r["period"] == period
    ]
    return {k: v for k, v in found.items() if k in BENEFIT_KEYS and v}


async def get_enrolment_report(app, principal, **params) -> dict:
    async with as_(app, principal) as client:
        response = await client.get("/reports/enrolments", params={**RANGE, **params})
    assert response.status_code == 200, response.text
    return response.json()


async def test_enrolments_are_counted_by_programme_and_status(app, infrastructure):
    await known_provision(infrastructure)
    report = await get_enrolment_report(app, DMK_SEN_SOK)

    assert report["area"]["code"] == "1208" and report["breakdown_level"] == "commune"
    assert (report["period_from"], report["period_to"]) == ("2026-01", "2026-12")
    assert enrolment_counts(report, "120801", "FAMILY_PACKAGE") == {
        "enrolments": 2,
        "enrolled": 1,
        "proposed": 1,
        "enrolled_in_period": 1,
    }
    assert enrolment_counts(report, "120801", "HEALTH_EQUITY_FUND") == {
        "enrolments": 1,
        "enrolled": 1,
    }
    assert enrolment_counts(report, "120801", "FOOD_AID") == {
        "enrolments": 1,
        "exited": 1,
        "exited_in_period": 1,
    }
    assert enrolment_counts(report, "120801", "DISABILITY_ALLOWANCE") == {
        "enrolments": 1,
        "rejected": 1,
    }
    assert enrolment_counts(report, "120801") == {
        "enrolments": 5,
        "enrolled": 2,
        "proposed": 1,
        "exited": 1,
        "rejected": 1,
        "enrolled_in_period": 1,
        "exited_in_period": 1,
    }
    assert enrolment_counts(report, "120802", "FAMILY_PACKAGE") == {
        "enrolments": 1,
        "suspended": 1,
        "enrolled_in_period": 1,
    }
    assert enrolment_counts(report, "1208", "FAMILY_PACKAGE")["enrolments"] == 3
    assert enrolment_counts(report, "1208")["enrolments"] == 6  # not Banteay Meanchey's
    assert enrolment_counts(report, "120803") == {}
    programmes = [
        "DISABILITY_ALLOWANCE",
        "FAMILY_PACKAGE",
        "FOOD_AID",
        "HEALTH_EQUITY_FUND",
        "PRIMARY_SCHOLARSHIP",
        "ALL",
    ]
    rows = report["enrolments"]["rows"]
    assert [r["programme_code"] for r in rows[:6]] == programmes
    assert len(rows) == (6 + 1) * 6
    assert rows[1]["programme_name"] == "Family Package"


async def test_benefits_are_counted_and_summed_by_programme_and_month(app, infrastructure):
    await known_provision(infrastructure)
    report = await get_enrolment_report(app, DMK_SEN_SOK)

    family = "FAMILY_PACKAGE"
    assert benefit_counts(report, "120801", family, "2026-09") == {
        "benefits": 1,
        "amount_khr": 80_000,
        "paid": 1,
        "paid_amount_khr": 80_000,
    }
    assert benefit_counts(report, "120801", family, "2026-10") == {
        "benefits": 1,
        "amount_khr": 80_000,
        "failed": 1,
    }
    assert benefit_counts(report, "120801", family, "2026-11") == {
        "benefits": 1,
        "amount_khr": 80_000,
        "returned": 1,
    }
    # The whole range: December 2025 is outside it.
    assert benefit_counts(report, "120801", family) == {
        "benefits": 3,
        "amount_khr": 240_000,
        "paid": 1,
        "paid_amount_khr": 80_000,
        "failed": 1,
        "returned": 1,
    }
    # In-kind benefits count, without riel.
    assert benefit_counts(report, "120801", "FOOD_AID", "2026-04") == {"benefits": 1, "paid": 1}
    assert benefit_counts(report, "1208", family, "2026-09") == {
        "benefits": 2,
        "amount_khr": 160_000,
        "paid": 2,
        "paid_amount_khr": 160_000,
    }
    assert benefit_counts(report, "1208") == {
        "benefits": 5,
        "amount_khr": 320_000,
        "paid": 3,
        "paid_amount_khr": 160_000,
        "failed": 1,
        "returned": 1,
    }
    assert benefit_counts(report, "1208", "ALL", "2026-01") == {}
    rows = report["benefits"]["rows"]
    assert [r["period"] for r in rows[:13]] == [f"2026-{m:02d}" for m in range(1, 13)] + ["ALL"]
    assert len(rows) == (6 + 1) * 6 * 13

    earlier = await get_enrolment_report(app, DMK_SEN_SOK, **{"from": "2025-12", "to": "2025-12"})
    assert benefit_counts(earlier, "120801", family, "2025-12")["paid"] == 1
    assert enrolment_counts(earlier, "120801", family).get("enrolled_in_period") is None


async def test_enrolment_report_csv_holds_each_table_as_json_does(app, infrastructure):
    await known_provision(infrastructure)
    async with as_(app, DMK_SEN_SOK) as client:
        headers = {"Accept-Language": "km"}
        as_json = (await client.get("/reports/enrolments", params=RANGE, headers=headers)).json()
        enrolments = await client.get(
            "/reports/enrolments", params=RANGE, headers={**headers, "Accept": "text/csv"}
        )
        benefits = await client.get(
            "/reports/enrolments",
            params={**RANGE, "format": "csv", "table": "benefits"},
            headers=headers,
        )
    assert parse_csv(enrolments) == as_table(as_json["enrolments"])
    assert parse_csv(benefits) == as_table(as_json["benefits"])
    assert as_json["enrolments"]["rows"][1]["programme_name"] == "កញ្ចប់គ្រួសារ"
    assert as_json["enrolments"]["rows"][5]["programme_name"] == "គ្រប់កម្មវិធី"
    assert benefits.headers["content-disposition"] == (
        'attachment; filename="benefits-1208-2026-01-2026-12.csv"'
    )


async def test_enrolment_report_stays_in_the_callers_area(app, infrastructure):
    await known_provision(infrastructure)
    own = await get_enrolment_report(app, CS_PHNOM_PENH_THMEI)
    sibling = await get_enrolment_report(app, CS_TUEK_THLA)
    other_province = await get_enrolment_report(app, CP_BANTEAY_MEANCHEY)
    national = await get_enrolment_report(app, NATIONAL)
    narrowed = await get_enrolment_report(app, DMK_SEN_SOK, location="120802")

    assert enrolment_counts(own, "120801")["enrolments"] == 5
    assert benefit_counts(own, "120801")["benefits"] == 4
    assert enrolment_counts(sibling, "120802") == {
        "enrolments": 1,
        "suspended": 1,
        "enrolled_in_period": 1,
    }
    assert benefit_counts(sibling, "120802")["benefits"] == 1
    assert enrolment_counts(other_province, "01")["enrolments"] == 1
    assert benefit_counts(other_province, "01")["paid_amount_khr"] == 80_000
    assert enrolment_counts(national, "")["enrolments"] == 7
    assert enrolment_counts(national, "12")["enrolments"] == 6
    assert benefit_counts(narrowed, "120802") == benefit_counts(sibling, "120802")
    async with as_(app, CS_TUEK_THLA) as client:
        response = await client.get("/reports/enrolments", params={"location": "120801"})
    assert_problem(response, 404)


@pytest.mark.parametrize(
    ("params", "field", "reason"),
    [
        ({"from": "2026-13"}, "from", "should match pattern"),
        ({"to": "26-01"}, "to", "should match pattern"),
        ({"from": "2026-06", "to": "2026-05"}, "to", "must not be before `from`"),
        ({"from": "2020-01", "to": "2026-12"}, "from", "at most 36 months"),
        ({"table": "cases"}, "table", "'enrolments' or 'benefits'"),
        ({"location": "1299"}, "location", "not a district in the NCDD gazetteer"),
    ],
)
async def test_bad_enrolment_report_parameters_are_problems(app, params, field, reason):
    async with as_(app, DMK_SEN_SOK) as client:
        response = await client.get("/reports/enrolments", params=params)
    body = assert_problem(response, 422)
    [error] = body["errors"]
    assert error["field"] == f"query.{field}"
    assert reason in error["reason"]


async def test_the_period_range_defaults_to_the_last_twelve_months(app):
    async with as_(app, DMK_SEN_SOK) as client:
        response = await client.get("/reports/enrolments")
    report = response.json()
    first, last = (date.fromisoformat(report[k] + "-01") for k in ("period_from", "period_to"))
    assert last >= date(2026, 11, 1)
    assert (last.year - first.year) * 12 + last.month - first.month == 11


# -- through the gateway ---------------------------------------------------------------------


async def test_through_the_gateway_people_of_a_tier_get_their_area_and_others_nothing(
    platform, infrastructure, clean_databases
):
    await known_dataset(infrastructure)
    path = "/registry/reports/households"
    async with platform.client("cs.phnom-penh-thmei") as client:
        own = await client.get(path, params={"reference_date": REFERENCE.isoformat()})
        as_csv = await client.get(
            path,
            params={"reference_date": REFERENCE.isoformat(), "format": "csv"},
            headers={"Accept-Language": "km"},
        )
        enrolments = await client.get("/registry/reports/enrolments", params=RANGE)
    async with platform.client("cp.banteay-meanchey") as client:
        elsewhere = await client.get(path, params={"location": "1208"})
        elsewhere_enrolments = await client.get(
            "/registry/reports/enrolments", params={"location": "120801"}
        )
    async with platform.client("client:moh-health-equity") as client:
        machine = await client.get(path)
    async with platform.client("anonymous") as client:
        anonymous = await client.get(path)

    assert own.status_code == 200, own.text
    assert counts(own.json(), "120801")["households"] == 3
    assert parse_csv(as_csv)[0][0] == "លេខកូដទីតាំង"
    assert enrolments.status_code == 200, enrolments.text
    assert enrolment_counts(enrolments.json(), "120801") == {}  # none enrolled here
    assert_problem(elsewhere, 404)  # the service's jurisdiction check
    assert_problem(elsewhere_enrolments, 404)
    assert_problem(machine, 403)  # the gateway's policy: no scope grants reports
    assert_problem(anonymous, 401)
