"""Issue 4's acceptance journey, through the gateway as people and systems use it.

A commune officer registers a household, the district verifies it, it is enrolled in the
Family Package and a benefit is recorded; an officer of the sibling commune sees none of it;
the events are on their topics; a DCI sync search by household id finds it; the importer
loads a file with errors and reports each one.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from tests.harness import envelopes, read_topic, wait_for
from tests.registry.dci_support import by_household_id, codes_of, search_message

SAMPLE = Path(__file__).parent / "data" / "households_with_errors.csv"


def family_with_a_baby() -> dict:
    today = date.today()
    person = {
        "family_name_km": "សុខ",
        "given_name_km": "ចាន់ថា",
        "family_name_latin": "Sok",
        "given_name_latin": "Chantha",
        "sex": "female",
        "birth_date": "1990-05-02",
        "relationship": "head",
        "national_id": "110203040",
    }
    baby = {
        **person,
        "given_name_km": "សុភា",
        "given_name_latin": "Sophea",
        "birth_date": (today - timedelta(days=300)).isoformat(),
        "relationship": "child",
        "national_id": None,
    }
    return {
        "village_code": "12080102",
        "address": "Street 1986, house 40",
        "members": [person, baby],
        "poverty_status": {
            "level": "POOR_1",
            "score": 70,
            "method": "ON_DEMAND",
            "assessed_on": (today - timedelta(days=10)).isoformat(),
            "valid_until": (today + timedelta(days=1000)).isoformat(),
            "equity_card_number": "EQ-JOURNEY-1",
            "vulnerability_categories": ["under_2"],
        },
    }


def about(subject: str):
    return lambda records: [e for e in envelopes(records) if e.get("subject") == subject]


async def test_register_verify_enrol_pay_and_only_the_right_people_see_it(
    platform, infrastructure, clean_databases
):
    async with platform.client("cs.phnom-penh-thmei") as commune:
        created = await commune.post(
            "/registry/households", json=family_with_a_baby(), headers={"Idempotency-Key": "j-1"}
        )
        assert created.status_code == 201, created.text
        household = created.json()
        assert household["status"] == "pending_verification"
        url = f"/registry/households/{household['id']}"
        etag = (await commune.get(url)).headers["etag"]

    async with platform.client("dmk.sen-sok") as district:
        verified = await district.post(f"{url}/verify", headers={"If-Match": etag})
        assert verified.status_code == 200, verified.text
        assert verified.json()["status"] == "active"

    async with platform.client("cs.phnom-penh-thmei") as commune:
        eligibility = (await commune.get(f"{url}/eligibility")).json()
        assert any(
            p["programme_code"] == "FAMILY_PACKAGE" and p["eligible"]
            for p in eligibility["programmes"]
        ), eligibility
        proposed = await commune.post(
            "/registry/enrolments",
            json={"household_id": household["id"], "programme_code": "FAMILY_PACKAGE"},
        )
        assert proposed.status_code == 201, proposed.text
        enrolment = proposed.json()
        assert enrolment["status"] == "proposed"

    async with platform.client("dmk.sen-sok") as district:
        approved = await district.post(
            f"/registry/enrolments/{enrolment['id']}/approve",
            headers={"If-Match": f'"{enrolment["version"]}"'},
        )
        assert approved.status_code == 200, approved.text
        assert approved.json()["status"] == "enrolled"

    async with platform.client("cs.phnom-penh-thmei") as commune:
        paid = await commune.post(
            f"/registry/enrolments/{enrolment['id']}/benefits",
            json={
                "period": "2026-10",
                "amount_khr": 80_000,
                "channel": "cash_wing",
                "status": "paid",
                "delivered_on": "2026-10-15",
            },
        )
        assert paid.status_code == 201, paid.text
        benefit = paid.json()
        verification = await commune.get(
            "/registry/verification", params={"household_code": household["code"]}
        )
        assert verification.status_code == 200, verification.text
        [programme] = [
            p
            for p in verification.json()["matches"][0]["programmes"]
            if p["programme_code"] == "FAMILY_PACKAGE"
        ]
        assert programme["status"] == "enrolled"
        assert programme["last_benefit"]["period"] == "2026-10"

    async with platform.client("cs.tuek-thla") as sibling:
        assert (await sibling.get(url)).status_code == 404
        assert (await sibling.get(f"/registry/enrolments/{enrolment['id']}")).status_code == 404
        assert (await sibling.get(f"/registry/benefits/{benefit['id']}")).status_code == 404
        listing = await sibling.get("/registry/households")
        assert listing.json()["items"] == []
        enrolments = await sibling.get("/registry/enrolments")
        assert enrolments.json()["items"] == []
        lookup = await sibling.get(
            "/registry/verification", params={"household_code": household["code"]}
        )
        assert lookup.status_code == 404

    # Every step is an event on its aggregate's topic, about this household's records.
    bootstrap = infrastructure.bootstrap_servers
    expected = {
        ("sp.registry.household", household["id"]): [
            "kh.gov.sp.registry.household.registered.v1",
            "kh.gov.sp.registry.household.poverty_status_changed.v1",
            "kh.gov.sp.registry.household.verified.v1",
        ],
        ("sp.registry.enrolment", enrolment["id"]): [
            "kh.gov.sp.registry.enrolment.proposed.v1",
            "kh.gov.sp.registry.enrolment.enrolled.v1",
        ],
        ("sp.registry.benefit", benefit["id"]): ["kh.gov.sp.registry.benefit.recorded.v1"],
    }
    for (topic, subject), types in expected.items():
        pick = about(subject)
        events = pick(
            await read_topic(bootstrap, topic, until=lambda r, p=pick, n=len(types): len(p(r)) >= n)
        )
        assert sorted(e["type"] for e in events) == sorted(types), topic
        assert all(e["jurisdiction"] == "12080102" for e in events)

    # Another government system finds it with a DCI sync search by household id.
    async with platform.client("client:moh-health-equity") as system:
        response = await system.post(
            "/registry/dci/registry/sync/search",
            json=search_message(by_household_id(household["code"])),
        )
        assert response.status_code == 200, response.text
        [item] = response.json()["message"]["search_response"]
        assert item["status"] == "succ"
        assert codes_of(item) == [household["code"]]


async def test_the_importer_reports_each_error_of_a_file_through_the_gateway(
    platform, clean_databases
):
    async with platform.client("cs.phnom-penh-thmei") as commune:
        uploaded = await commune.post(
            "/registry/imports", files={"file": ("households.csv", SAMPLE.read_bytes())}
        )
        assert uploaded.status_code == 202, uploaded.text
        url = f"/registry/imports/{uploaded.json()['id']}"

        async def validated():
            body = (await commune.get(url)).json()
            return body if body["status"] == "validated" else None

        status = await wait_for(validated, timeout=30)
        errors = (await commune.get(f"{url}/errors", params={"limit": 100})).json()["items"]
        report = await commune.get(f"{url}/errors.csv")
    assert status["progress"]["households_valid"] >= 1
    assert len(errors) >= 10
    assert all(e["row"] > 1 and e["column"] and e["reason"] for e in errors)
    assert report.status_code == 200
    assert len(report.text.strip().splitlines()) == len(errors) + 1  # header + one line each
