"""Verification: by household code, national ID or names + birth date, the household's
programmes, enrolment states and last benefits; people within their jurisdiction, scoped
clients nationwide without names. And the issue's done-when path through the gateway."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text

from services.registry.verification.schemas import VerificationResult
from tests.harness import (
    CP_BANTEAY_MEANCHEY,
    CS_PHNOM_PENH_THMEI,
    CS_TUEK_THLA,
    DMK_SEN_SOK,
    NATIONAL,
    envelopes,
    read_topic,
)
from tests.registry.conftest import as_
from tests.registry.factories import (
    VILLAGE_BANTEAY_MEANCHEY,
    VILLAGE_PHNOM_PENH_THMEI,
    RegistryRows,
    make_household,
    member,
)
from tests.registry.programme_support import (
    CLIENT_WITHOUT_SCOPE,
    MOH_CLIENT,
    ON_THE_DAY,
    assert_problem,
    family_household,
)

# Their households, enrolments and benefits describe 21 November 2026: so does the clock.
pytestmark = ON_THE_DAY


async def enrol(app, household, programme="FAMILY_PACKAGE", member_id=None) -> str:
    body = {"household_id": str(household.id), "programme_code": programme}
    if member_id:
        body["member_id"] = str(member_id)
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        proposed = (await client.post("/enrolments", json=body)).json()
    async with as_(app, DMK_SEN_SOK) as client:
        approved = await client.post(
            f"/enrolments/{proposed['id']}/approve", headers={"If-Match": '"1"'}
        )
    assert approved.status_code == 200, approved.text
    return proposed["id"]


async def pay(app, enrolment_id, period, status="paid", delivered_on="2026-10-28", **fields):
    body = {"period": period, "channel": "cash_wing", "status": status, **fields}
    if status == "paid":
        body["delivered_on"] = delivered_on
    if "in_kind_item" not in fields:
        body["amount_khr"] = 80_000
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        response = await client.post(f"/enrolments/{enrolment_id}/benefits", json=body)
    assert response.status_code == 201, response.text


@pytest.fixture
async def scene(app, infrastructure):
    """A Family Package household paid for October, scheduled for November; its mother on
    the disability allowance; a son's scholarship (another member) never paid."""
    async with RegistryRows(infrastructure.database_url("registry")) as session:
        household = await make_household(
            session,
            poverty_level="POOR_1",
            poverty_valid_until=date(2028, 6, 30),
            equity_card_number="EC-1208-000123",
            members=[
                member(
                    birth_date=date(1984, 1, 9),
                    national_id="100200300",
                    phone="012345678",
                    disability_severity="severe",
                ),
                member(
                    relationship="child",
                    sex="male",
                    given_name_km="វិចិត្រ",
                    given_name_latin="Vichet",
                    birth_date=date(2017, 4, 2),
                    school_enrolment="primary",
                ),
                member(
                    relationship="child",
                    given_name_km="ស្រីនិច",
                    given_name_latin="Sreynich",
                    birth_date=date(2025, 8, 15),
                ),
            ],
        )
        ids = dict(
            (
                await session.execute(
                    text("SELECT given_name_latin, id FROM member WHERE household_id = :h"),
                    {"h": household.id},
                )
            ).all()
        )
    family = await enrol(app, household)
    await pay(app, family, "2026-10")
    await pay(app, family, "2026-11", status="scheduled")
    allowance = await enrol(app, household, "DISABILITY_ALLOWANCE", ids["Chantha"])
    await pay(app, allowance, "2026-09", delivered_on="2026-09-25")
    await enrol(app, household, "PRIMARY_SCHOLARSHIP", ids["Vichet"])
    return household, ids


async def verify(app, principal, **params):
    async with as_(app, principal) as client:
        return await client.get("/verification", params=params)


async def test_by_household_code_the_programmes_and_last_benefits(app, scene):
    household, ids = scene
    response = await verify(app, CS_PHNOM_PENH_THMEI, household_code=household.code)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["by"] == "household_code"
    (match,) = body["matches"]
    assert match["household"] == {
        "household_id": str(household.id),
        "household_code": household.code,
        "village_code": VILLAGE_PHNOM_PENH_THMEI,
        "village_name": match["household"]["village_name"],
        "status": "active",
        "poverty_level": "POOR_1",
        "poverty_valid_until": "2028-06-30",
        "equity_card_number": "EC-1208-000123",
    }
    assert match["household"]["village_name"]
    assert match["member"] is None
    by_code = {p["programme_code"]: p for p in match["programmes"]}
    assert set(by_code) == {"FAMILY_PACKAGE", "DISABILITY_ALLOWANCE", "PRIMARY_SCHOLARSHIP"}
    family = by_code["FAMILY_PACKAGE"]
    assert family["status"] == "enrolled" and family["member_id"] is None
    assert family["last_benefit"] == {
        "period": "2026-11",
        "delivered_on": None,
        "amount_khr": 80_000,
        "in_kind_item": None,
        "channel": "cash_wing",
        "status": "scheduled",
    }
    assert family["last_paid"]["period"] == "2026-10"
    assert family["last_paid"]["delivered_on"] == "2026-10-28"
    assert by_code["DISABILITY_ALLOWANCE"]["member_id"] == str(ids["Chantha"])
    assert by_code["PRIMARY_SCHOLARSHIP"]["last_benefit"] is None
    assert by_code["PRIMARY_SCHOLARSHIP"]["last_paid"] is None


async def test_the_answer_is_exactly_its_documented_schema(app, scene):
    """The route builds its answer from rows, without the response model: for each way of
    asking, staff and client alike, the body is what `VerificationResult` would have written."""
    household, _ = scene
    asks = [
        {"household_code": household.code},
        {"national_id": "100200300"},
        {"family_name_latin": "Sok", "given_name_latin": "Vichet", "birth_date": "2017-04-02"},
    ]
    for principal in (CS_PHNOM_PENH_THMEI, MOH_CLIENT):
        for params in asks:
            response = await verify(app, principal, **params)
            assert response.status_code == 200, response.text
            body = response.json()
            assert VerificationResult.model_validate(body).model_dump(mode="json") == body
            assert body["matches"] and body["matches"][0]["programmes"]


async def test_by_national_id_the_persons_programmes_and_names_for_staff(app, scene):
    _, ids = scene
    response = await verify(app, DMK_SEN_SOK, national_id="100200300")
    (match,) = response.json()["matches"]
    assert match["member"]["member_id"] == str(ids["Chantha"])
    assert match["member"]["given_name_latin"] == "Chantha"
    assert match["member"]["birth_year"] == 1984
    # Her household's programme and her own; not her son's scholarship.
    assert {p["programme_code"] for p in match["programmes"]} == {
        "FAMILY_PACKAGE",
        "DISABILITY_ALLOWANCE",
    }
    assert "012345678" not in response.text and "100200300" not in response.text


async def test_by_names_and_birth_date_in_latin_or_khmer(app, scene):
    _, ids = scene
    latin = await verify(
        app,
        CS_PHNOM_PENH_THMEI,
        family_name_latin=" SOK ",
        given_name_latin="vichet",
        birth_date="2017-04-02",
    )
    khmer = await verify(
        app,
        CS_PHNOM_PENH_THMEI,
        family_name_km="សុខ",
        given_name_km="វិចិត្រ",
        birth_date="2017-04-02",
    )
    wrong_birth = await verify(
        app,
        CS_PHNOM_PENH_THMEI,
        family_name_latin="Sok",
        given_name_latin="Vichet",
        birth_date="2017-04-03",
    )
    for response in (latin, khmer):
        (match,) = response.json()["matches"]
        assert match["member"]["member_id"] == str(ids["Vichet"])
        assert {p["programme_code"] for p in match["programmes"]} == {
            "FAMILY_PACKAGE",
            "PRIMARY_SCHOLARSHIP",
        }
    assert khmer.json()["by"] == "khmer_name"
    assert_problem(wrong_birth, 404)


async def test_labels_in_khmer(app, scene):
    household, _ = scene
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        response = await client.get(
            "/verification",
            params={"household_code": household.code},
            headers={"Accept-Language": "km"},
        )
    names = {p["programme_name"] for p in response.json()["matches"][0]["programmes"]}
    assert "កញ្ចប់គ្រួសារ" in names


@pytest.mark.parametrize(
    ("principal", "visible"),
    [
        (CS_PHNOM_PENH_THMEI, True),
        (CS_TUEK_THLA, False),
        (DMK_SEN_SOK, True),
        (CP_BANTEAY_MEANCHEY, False),
        (NATIONAL, True),
    ],
)
async def test_people_verify_within_their_jurisdiction(app, scene, principal, visible):
    household, _ = scene
    by_code = await verify(app, principal, household_code=household.code)
    by_id = await verify(app, principal, national_id="100200300")
    if visible:
        assert by_code.status_code == 200 and by_id.status_code == 200
    else:
        assert_problem(by_code, 404)
        assert_problem(by_id, 404)


async def test_a_scoped_client_verifies_nationwide_without_names(app, infrastructure, scene):
    elsewhere = await family_household(infrastructure, village_code=VILLAGE_BANTEAY_MEANCHEY)
    response = await verify(app, MOH_CLIENT, national_id="100200300")
    far = await verify(app, MOH_CLIENT, household_code=elsewhere.code)
    refused = await verify(app, CLIENT_WITHOUT_SCOPE, national_id="100200300")
    (match,) = response.json()["matches"]
    assert match["member"]["given_name_latin"] is None
    assert match["member"]["family_name_km"] is None
    assert "Chantha" not in response.text and "012345678" not in response.text
    assert match["programmes"][0]["last_paid"] is not None
    assert far.status_code == 200
    assert_problem(refused, 403)
    async with app.state.database.transaction() as session:
        logged = (
            await session.execute(text("SELECT count(*) FROM personal_data_access"))
        ).scalar_one()
    assert logged == 0, "clients are logged by the gateway, not as personal-data reads"


async def test_a_persons_verification_is_audit_logged(app, scene):
    _, ids = scene
    await verify(app, DMK_SEN_SOK, national_id="100200300")
    async with app.state.database.transaction() as session:
        rows = (
            await session.execute(
                text("SELECT actor_sub, entity, entity_id, purpose FROM personal_data_access")
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        ("dmk-1208", "member", ids["Chantha"], "registry_verify_beneficiary")
    ]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "query.household_code"),
        ({"household_code": "HH000000019"}, "query.household_code"),  # bad check digit
        ({"household_code": "12345"}, "query.household_code"),
        ({"household_code": "HH000000011", "national_id": "1"}, "query.national_id"),
        ({"national_id": "12-34"}, "query.national_id"),
        ({"family_name_latin": "Sok", "given_name_latin": "Dara"}, "query.birth_date"),
        ({"family_name_latin": "Sok", "birth_date": "2017-04-02"}, "query.given_name_latin"),
        ({"given_name_km": "ដារា", "birth_date": "2017-04-02"}, "query.family_name_km"),
        (
            {"family_name_latin": "Sok", "given_name_latin": "Dara", "birth_date": "2017-02-30"},
            "query.birth_date",
        ),
    ],
)
async def test_bad_queries_name_the_parameter(app, params, field):
    assert_problem(await verify(app, CS_PHNOM_PENH_THMEI, **params), 422, field)


# -- the "done when", through the gateway --------------------------------------------


async def test_enrolled_in_the_family_package_paid_and_invisible_to_the_sibling_commune(
    platform, infrastructure, clean_databases
):
    # The platform's registry runs on the machine's clock: the child is fifteen months old today.
    household = await family_household(infrastructure, on=date.today())
    async with platform.client("cs.phnom-penh-thmei") as cs:
        eligibility = await cs.get(f"/registry/households/{household.id}/eligibility")
        proposed = await cs.post(
            "/registry/enrolments",
            json={"household_id": str(household.id), "programme_code": "FAMILY_PACKAGE"},
            headers={"Idempotency-Key": "done-when-1"},
        )
        enrolment_id = proposed.json()["id"]
        commune_approves = await cs.post(
            f"/registry/enrolments/{enrolment_id}/approve", headers={"If-Match": '"1"'}
        )
    async with platform.client("dmk.sen-sok") as dmk:
        approved = await dmk.post(
            f"/registry/enrolments/{enrolment_id}/approve", headers={"If-Match": '"1"'}
        )
    async with platform.client("cs.phnom-penh-thmei") as cs:
        benefit = await cs.post(
            f"/registry/enrolments/{enrolment_id}/benefits",
            json={
                "period": "2026-10",
                "amount_khr": 80_000,
                "channel": "cash_wing",
                "status": "paid",
                "delivered_on": "2026-10-28",
            },
        )
        verified = await cs.get("/registry/verification", params={"household_code": household.code})
    async with platform.client("cs.tuek-thla") as sibling:
        hidden = [
            await sibling.get(f"/registry/enrolments/{enrolment_id}"),
            await sibling.get(f"/registry/enrolments/{enrolment_id}/benefits"),
            await sibling.get(f"/registry/benefits/{benefit.json()['id']}"),
            await sibling.get(f"/registry/households/{household.id}/enrolments"),
            await sibling.get(f"/registry/households/{household.id}/eligibility"),
            await sibling.get("/registry/verification", params={"household_code": household.code}),
        ]
        listed = await sibling.get("/registry/enrolments")
        sibling_proposes = await sibling.post(
            "/registry/enrolments",
            json={"household_id": str(household.id), "programme_code": "FOOD_AID"},
        )
    async with platform.client("client:moh-health-equity") as moh:
        by_system = await moh.get(
            "/registry/verification", params={"household_code": household.code}
        )
    async with platform.client("client:partner-without-scope") as partner:
        refused = await partner.get(
            "/registry/verification", params={"household_code": household.code}
        )

    family = next(
        p for p in eligibility.json()["programmes"] if p["programme_code"] == "FAMILY_PACKAGE"
    )
    assert family["eligible"] is True
    assert proposed.status_code == 201 and proposed.json()["status"] == "proposed"
    assert commune_approves.status_code == 403  # the gateway: communes do not decide
    assert approved.status_code == 200 and approved.json()["status"] == "enrolled"
    assert benefit.status_code == 201, benefit.text
    (match,) = verified.json()["matches"]
    assert match["programmes"][0]["last_paid"]["period"] == "2026-10"
    assert [r.status_code for r in hidden] == [404] * 6
    assert listed.json()["items"] == []
    assert sibling_proposes.status_code == 403
    assert by_system.status_code == 200
    assert by_system.json()["matches"][0]["programmes"][0]["status"] == "enrolled"
    assert refused.status_code == 403

    enrolment_events = await read_topic(
        infrastructure.bootstrap_servers,
        "sp.registry.enrolment",
        until=lambda rs: sum(e["subject"] == enrolment_id for e in envelopes(rs)) >= 2,
    )
    benefit_events = await read_topic(
        infrastructure.bootstrap_servers,
        "sp.registry.benefit",
        until=lambda rs: any(e["subject"] == benefit.json()["id"] for e in envelopes(rs)),
    )
    assert [
        e["type"].split(".")[-2]
        for e in envelopes(enrolment_events)
        if e["subject"] == enrolment_id
    ] == ["proposed", "enrolled"]
    (recorded,) = [e for e in envelopes(benefit_events) if e["subject"] == benefit.json()["id"]]
    assert recorded["jurisdiction"] == VILLAGE_PHNOM_PENH_THMEI
    assert recorded["data"]["amount_khr"] == 80_000
