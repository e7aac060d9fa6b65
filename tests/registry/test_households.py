"""Households: registration by the commune, verification or return by the district, reads in
one's own area only, sensitive fields by role, every read logged, events on their topics."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from services.registry.audit.models import PersonalDataAccess, RecordChange
from services.registry.households.codes import format_household_code, is_valid_household_code
from services.registry.households.models import Household, Member
from services.registry.households.schemas import HouseholdPublic
from services.registry.main import create_app
from shared.db.platform_tables import outbox
from shared.principal import Principal
from shared.tiers import Tier
from tests.harness import (
    CP_BANTEAY_MEANCHEY,
    CP_PHNOM_PENH,
    CS_PHNOM_PENH_THMEI,
    CS_TUEK_THLA,
    DMK_SEN_SOK,
    NATIONAL,
    envelopes,
    read_topic,
    running,
)
from tests.registry.conftest import as_, registry_settings
from tests.registry.factories import (
    VILLAGE_BANTEAY_MEANCHEY,
    VILLAGE_PHNOM_PENH_THMEI,
    VILLAGE_TUEK_THLA,
    RegistryRows,
    make_household,
    member,
)

# Principals holding registry roles at tiers the harness has only viewers for.
NATIONAL_VERIFIER = Principal(
    sub="national-verifier", tier=Tier.NATIONAL, roles=frozenset({"registry.verifier"})
)
CP_BANTEAY_MEANCHEY_VERIFIER = Principal(
    sub="cp-01-verifier", tier=Tier.CP, admin_code="01", roles=frozenset({"registry.verifier"})
)
DMK_OTHER_VERIFIER = Principal(  # Khan Chamkar Mon: same capital, another district
    sub="dmk-1201", tier=Tier.DMK, admin_code="1201", roles=frozenset({"registry.verifier"})
)
DMK_SEN_SOK_VIEWER = Principal(
    sub="dmk-1208-viewer", tier=Tier.DMK, admin_code="1208", roles=frozenset({"viewer"})
)
MACHINE = Principal(sub="client:moh", client=True, scopes=frozenset({"registry.verification.read"}))

JURISDICTION = {
    "commune": CS_PHNOM_PENH_THMEI,
    "sibling-commune": CS_TUEK_THLA,
    "parent-district": DMK_SEN_SOK,
    "other-province": CP_BANTEAY_MEANCHEY,
    "national": NATIONAL,
}


def today() -> date:
    return date.today()


def person(relationship="head", **fields) -> dict:
    """A member as a client sends it."""
    body = {
        "family_name_km": "សុខ",
        "given_name_km": "ចាន់ថា",
        "family_name_latin": "Sok",
        "given_name_latin": "Chantha",
        "sex": "female",
        "birth_date": "1985-03-14",
        "relationship": relationship,
    }
    body.update(fields)
    return body


def household_body(village_code=VILLAGE_PHNOM_PENH_THMEI, **fields) -> dict:
    body = {
        "village_code": village_code,
        "address": "House 12, Street 1986",
        "members": [
            person(national_id="010203040", phone="012 345 678"),
            person(
                "spouse",
                given_name_km="វណ្ណា",
                given_name_latin="Vanna",
                sex="male",
                birth_date="1982-07-01",
            ),
            person(
                "child",
                given_name_km="ដារ៉ា",
                given_name_latin="Dara",
                sex="male",
                birth_date="2012-01-20",
                school_enrolment="primary",
            ),
        ],
    }
    body.update(fields)
    return body


async def register(app, principal=CS_PHNOM_PENH_THMEI, body=None, **headers) -> dict:
    async with as_(app, principal) as client:
        response = await client.post(
            "/households", json=body or household_body(), headers=headers or None
        )
    assert response.status_code == 201, response.text
    return response.json()


async def count(app, table) -> int:
    async with app.state.database.transaction() as session:
        return (await session.execute(select(func.count()).select_from(table))).scalar_one()


async def outbox_rows(app, household_id=None) -> list[dict]:
    async with app.state.database.transaction() as session:
        statement = select(outbox).order_by(outbox.c.seq)
        rows = (await session.execute(statement)).mappings().all()
    return [dict(r) for r in rows]


async def nothing_written(app) -> None:
    assert await count(app, Household) == 0
    assert await count(app, Member) == 0
    assert await count(app, outbox) == 0
    assert await count(app, RecordChange) == 0


def assert_problem(response, status: int, *fields: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    if fields:
        assert [e["pointer"] for e in body["errors"]] == list(fields), body
    return body


async def household_at(infrastructure, village_code=VILLAGE_PHNOM_PENH_THMEI, **fields):
    """A household written straight to the database (for tests not about registration)."""
    async with RegistryRows(infrastructure.database_url("registry")) as session:
        return await make_household(
            session,
            village_code=village_code,
            members=[
                member(national_id="010203040", phone="+85512345678"),
                member(relationship="child", given_name_latin="Dara", birth_date=date(2012, 1, 2)),
            ],
            **fields,
        )


# --- registration ------------------------------------------------------------------------------


async def test_a_commune_officer_registers_a_household_pending_verification(app):
    created = await register(app)
    assert created["status"] == "pending_verification"
    assert is_valid_household_code(created["code"])
    assert created["version"] == 1
    assert [m["relationship"] for m in created["members"]] == ["head", "spouse", "child"]
    head = created["members"][0]
    assert created["head_member_id"] == head["id"]
    assert head["phone"] == "+85512345678", "normalised to the international form"
    assert head["national_id"] == "010203040"
    assert {m["village_code"] for m in created["members"]} == {VILLAGE_PHNOM_PENH_THMEI}
    assert created["poverty_status"]["level"] == "UNASSESSED"
    assert created["created_by"] == CS_PHNOM_PENH_THMEI.sub

    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        read = await client.get(f"/households/{created['id']}")
    assert read.headers["etag"] == '"1"'
    assert read.json() == created


async def test_registration_with_a_poverty_status_records_it_and_its_history(app):
    status = {
        "level": "POOR_1",
        "score": 72,
        "method": "ROUND",
        "round_number": 12,
        "assessed_on": str(today() - timedelta(days=30)),
        "valid_until": str(today() + timedelta(days=700)),
        "equity_card_number": "EC-1208-0001",
        "vulnerability_categories": ["under_18"],
    }
    created = await register(app, body=household_body(poverty_status=status))
    assert created["poverty_status"] == status
    async with as_(app, DMK_SEN_SOK) as client:
        history = (await client.get(f"/households/{created['id']}/poverty-status/history")).json()
    assert [h["level"] for h in history["items"]] == ["POOR_1"]
    assert history["items"][0]["recorded_by"] == CS_PHNOM_PENH_THMEI.sub
    types = [r["type"] for r in await outbox_rows(app)]
    assert types.count("kh.gov.sp.registry.household.poverty_status_changed.v1") == 1


async def test_registration_writes_one_event_carrying_the_members(app):
    created = await register(app)
    rows = await outbox_rows(app)
    # The members registered with the household are in its event (as an import announces
    # them); member.added is for members joining an existing household.
    assert [r["type"] for r in rows] == ["kh.gov.sp.registry.household.registered.v1"]
    registered = rows[0]
    assert registered["topic"] == "sp.registry.household"
    assert registered["aggregate_id"] == created["id"]
    assert registered["jurisdiction"] == VILLAGE_PHNOM_PENH_THMEI
    members = registered["payload"].pop("members")
    assert registered["payload"] == {
        "household_id": created["id"],
        "household_code": created["code"],
        "village_code": VILLAGE_PHNOM_PENH_THMEI,
        "status": "pending_verification",
        "record_version": 1,
        "member_count": 3,
        "origin": "api",
    }
    assert [m["member_id"] for m in members] == [m["id"] for m in created["members"]]
    assert set(members[0]) == {"member_id", "relationship", "sex", "birth_year"}
    assert members[2]["birth_year"] == 2012
    assert "national_id" not in str([r["payload"] for r in rows]), "no personal data in events"


async def test_registration_history_names_who_registered_each_record(app):
    created = await register(app)
    async with app.state.database.transaction() as session:
        entries = (
            (await session.execute(select(RecordChange).order_by(RecordChange.id))).scalars().all()
        )
    assert [(e.entity, e.action) for e in entries] == [
        ("household", "registered"),
        ("member", "added"),
        ("member", "added"),
        ("member", "added"),
    ]
    assert {e.actor_sub for e in entries} == {CS_PHNOM_PENH_THMEI.sub}
    assert {str(e.household_id) for e in entries} == {created["id"]}
    assert entries[0].changes["code"] == created["code"]
    assert entries[1].changes["family_name_latin"] == "Sok"


async def test_a_retry_with_the_same_idempotency_key_registers_once(app):
    first = await register(app, **{"Idempotency-Key": "reg-1"})
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        again = await client.post(
            "/households", json=household_body(), headers={"Idempotency-Key": "reg-1"}
        )
    assert again.status_code == 201
    assert again.json() == first
    assert again.headers["idempotent-replayed"] == "true"
    assert await count(app, Household) == 1
    assert await count(app, Member) == 3


async def test_codes_come_from_the_sequence_with_a_check_digit(app):
    first = await register(app)
    second = await register(app)
    number = int(first["code"][2:10])
    assert second["code"] == format_household_code(number + 1)
    assert is_valid_household_code(first["code"]) and is_valid_household_code(second["code"])


@pytest.mark.parametrize(
    ("name", "principal", "village", "status"),
    [
        ("commune", CS_PHNOM_PENH_THMEI, VILLAGE_PHNOM_PENH_THMEI, 201),
        ("sibling-commune", CS_TUEK_THLA, VILLAGE_PHNOM_PENH_THMEI, 403),
        ("sibling-in-own-village", CS_TUEK_THLA, VILLAGE_TUEK_THLA, 201),
        ("parent-district", DMK_SEN_SOK, VILLAGE_PHNOM_PENH_THMEI, 403),
        ("other-province", CP_BANTEAY_MEANCHEY, VILLAGE_PHNOM_PENH_THMEI, 403),
        ("national", NATIONAL, VILLAGE_PHNOM_PENH_THMEI, 403),
    ],
)
async def test_only_the_communes_officer_registers_there(app, name, principal, village, status):
    async with as_(app, principal) as client:
        response = await client.post("/households", json=household_body(village))
    assert response.status_code == status, response.text
    if status == 403:
        await nothing_written(app)


# --- bad input ---------------------------------------------------------------------------------


def _with_member(index: int, **fields) -> dict:
    body = household_body()
    body["members"][index] = {**body["members"][index], **fields}
    return body


# One app for all the cases (each writes nothing, so they cannot disturb one another).
IMPOSSIBLE_REGISTRATIONS = [
    (
        household_body(village_code="12080199"),
        "#/village_code",
        "not a village in the NCDD gazetteer",
    ),
    (household_body(village_code="120801"), "#/village_code", "village code (8 digits)"),
    (
        _with_member(2, birth_date="1980-01-01"),
        "#/members/2/birth_date",
        "born before the head",
    ),
    (_with_member(2, birth_date="1990-01-01"), "#/members/2/birth_date", "12 years younger"),
    (
        _with_member(0, birth_date=str(date.today() + timedelta(days=3))),
        "#/members/0/birth_date",
        "in the future",
    ),
    (_with_member(1, birth_date="1890-01-01"), "#/members/1/birth_date", "120 years"),
    (_with_member(1, relationship="head"), "#/members/1/relationship", "already has a head"),
    (_with_member(0, relationship="spouse"), "#/members", "exactly one member"),
    (_with_member(0, national_id="12AB"), "#/members/0/national_id", "9 to 12 digits"),
    (_with_member(0, phone="+66 81 234 5678"), "#/members/0/phone", "starts with 0"),
    (_with_member(0, phone="012 34"), "#/members/0/phone", "8 or 9 digits"),
    (_with_member(1, pregnant=True), "#/members/1/pregnant", "only a female"),
    (
        _with_member(
            0, pregnant=True, pregnancy_expected_on=str(date.today() + timedelta(days=400))
        ),
        "#/members/0/pregnancy_expected_on",
        "within 300 days",
    ),
    (_with_member(0, pregnant=True), "#/members/0/pregnancy_expected_on", "required"),
    (
        _with_member(0, disability_card_number="D-1"),
        "#/members/0/disability_card_number",
        "requires disability_severity",
    ),
    (_with_member(0, family_name_km="Sok"), "#/members/0/family_name_km", "Khmer script"),
    (_with_member(0, sex="unknown"), "#/members/0/sex", "'female' or 'male'"),
    (household_body(members=[]), "#/members", "at least 1"),
    (household_body(colour="blue"), "#/colour", "Extra inputs"),
    (
        household_body(poverty_status={"level": "POOR_2", "method": "ROUND"}),
        "#/poverty_status/round_number",
        "required for a ROUND",
    ),
]


async def test_impossible_registrations_name_the_field_and_write_nothing(app):
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        for body, pointer, reason in IMPOSSIBLE_REGISTRATIONS:
            response = await client.post("/households", json=body)
            problem = assert_problem(response, 422)
            errors = {e["pointer"]: e["reason"] for e in problem["errors"]}
            assert pointer in errors, problem
            assert reason in errors[pointer], errors
    await nothing_written(app)


async def test_duplicate_national_ids_inside_one_household_are_refused(app):
    body = _with_member(1, national_id="010203040")
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        response = await client.post("/households", json=body)
    assert_problem(response, 422, "#/members/1/national_id")
    await nothing_written(app)


async def test_a_valid_pregnancy_and_disability_are_stored(app):
    expected = date.today() + timedelta(days=120)
    body = _with_member(
        0,
        pregnant=True,
        pregnancy_expected_on=str(expected),
        disability_severity="medium",
        disability_card_number="DC-0001",
    )
    created = await register(app, body=body)
    head = created["members"][0]
    assert (head["pregnant"], head["pregnancy_expected_on"]) == (True, str(expected))
    assert (head["disability_severity"], head["disability_card_number"]) == ("medium", "DC-0001")


# --- verification --------------------------------------------------------------------------------


async def _etag(app, household_id, principal=CS_PHNOM_PENH_THMEI) -> str:
    async with as_(app, principal) as client:
        return (await client.get(f"/households/{household_id}")).headers["etag"]


async def test_the_district_verifies_a_pending_household(app):
    created = await register(app)
    async with as_(app, DMK_SEN_SOK) as client:
        verified = await client.post(
            f"/households/{created['id']}/verify", headers={"If-Match": '"1"'}
        )
    assert verified.status_code == 200, verified.text
    body = verified.json()
    assert body["status"] == "active"
    assert body["verified_by"] == DMK_SEN_SOK.sub and body["verified_at"]
    assert verified.headers["etag"] == '"2"'
    event = (await outbox_rows(app))[-1]
    assert event["type"] == "kh.gov.sp.registry.household.verified.v1"
    assert event["payload"]["status"] == "active" and event["payload"]["record_version"] == 2


@pytest.mark.parametrize(
    ("name", "principal", "status"),
    [
        ("commune", CS_PHNOM_PENH_THMEI, 403),
        ("sibling-commune", CS_TUEK_THLA, 403),
        ("parent-district", DMK_SEN_SOK, 200),
        ("parent-district-viewer", DMK_SEN_SOK_VIEWER, 403),
        ("other-district", DMK_OTHER_VERIFIER, 403),
        ("other-province", CP_BANTEAY_MEANCHEY_VERIFIER, 403),
        ("national-viewer", NATIONAL, 403),
        ("national-verifier", NATIONAL_VERIFIER, 200),
        ("machine-client", MACHINE, 403),
    ],
)
async def test_who_may_verify(app, name, principal, status):
    created = await register(app)
    async with as_(app, principal) as client:
        response = await client.post(
            f"/households/{created['id']}/verify", headers={"If-Match": '"1"'}
        )
    assert response.status_code == status, response.text
    if status == 403:
        assert (await _status(app, created["id"])) == "pending_verification"


async def _status(app, household_id) -> str:
    async with app.state.database.transaction() as session:
        return (await session.get(Household, uuid.UUID(household_id))).status


async def test_verification_needs_if_match_and_a_current_version(app):
    created = await register(app)
    async with as_(app, DMK_SEN_SOK) as client:
        missing = await client.post(f"/households/{created['id']}/verify")
        stale = await client.post(
            f"/households/{created['id']}/verify", headers={"If-Match": '"7"'}
        )
    assert_problem(missing, 428)
    assert_problem(stale, 412)
    assert await _status(app, created["id"]) == "pending_verification"


async def test_an_active_household_cannot_be_verified_again(app):
    created = await register(app)
    async with as_(app, DMK_SEN_SOK) as client:
        await client.post(f"/households/{created['id']}/verify", headers={"If-Match": '"1"'})
        again = await client.post(
            f"/households/{created['id']}/verify", headers={"If-Match": '"2"'}
        )
    assert_problem(again, 409)


async def test_return_correct_and_resubmit_then_verify(app):
    created = await register(app)
    url = f"/households/{created['id']}"
    async with as_(app, DMK_SEN_SOK) as district:
        returned = await district.post(
            f"{url}/return",
            json={"reasons": ["The child's birth date looks wrong"]},
            headers={"If-Match": '"1"'},
        )
    assert returned.status_code == 200, returned.text
    assert returned.json()["status"] == "returned"
    assert returned.json()["returned_reasons"] == ["The child's birth date looks wrong"]

    child = created["members"][2]
    async with as_(app, CS_PHNOM_PENH_THMEI) as commune:
        corrected = await commune.patch(
            f"{url}/members/{child['id']}",
            json={"birth_date": "2013-02-20"},
            headers={"If-Match": returned.headers["etag"]},
        )
        assert corrected.status_code == 200, corrected.text
        resubmitted = await commune.post(
            f"{url}/resubmit", headers={"If-Match": corrected.headers["etag"]}
        )
    assert resubmitted.status_code == 200, resubmitted.text
    assert resubmitted.json()["status"] == "pending_verification"
    assert resubmitted.json()["returned_reasons"] == []

    async with as_(app, DMK_SEN_SOK) as district:
        verified = await district.post(
            f"{url}/verify", headers={"If-Match": resubmitted.headers["etag"]}
        )
    assert verified.json()["status"] == "active"
    types = [r["type"].split(".")[-2] for r in await outbox_rows(app)]
    assert types[-4:] == ["returned", "updated", "updated", "verified"]


async def test_return_needs_reasons(app):
    created = await register(app)
    async with as_(app, DMK_SEN_SOK) as client:
        response = await client.post(
            f"/households/{created['id']}/return", json={"reasons": []}, headers={"If-Match": '"1"'}
        )
    assert_problem(response, 422, "#/reasons")
    assert await _status(app, created["id"]) == "pending_verification"


@pytest.mark.parametrize(
    ("name", "principal", "status"),
    [
        ("commune", CS_PHNOM_PENH_THMEI, 200),
        ("sibling-commune", CS_TUEK_THLA, 403),
        ("parent-district", DMK_SEN_SOK, 403),
        ("other-province", CP_BANTEAY_MEANCHEY, 403),
        ("national", NATIONAL, 403),
    ],
)
async def test_who_may_resubmit(app, name, principal, status):
    created = await register(app)
    async with as_(app, DMK_SEN_SOK) as client:
        await client.post(
            f"/households/{created['id']}/return",
            json={"reasons": ["Address missing"]},
            headers={"If-Match": '"1"'},
        )
    async with as_(app, principal) as client:
        response = await client.post(
            f"/households/{created['id']}/resubmit", headers={"If-Match": '"2"'}
        )
    assert response.status_code == status, response.text


@pytest.mark.parametrize(
    ("name", "principal", "status"),
    [
        ("commune", CS_PHNOM_PENH_THMEI, 403),
        ("sibling-commune", CS_TUEK_THLA, 403),
        ("parent-district", DMK_SEN_SOK, 200),
        ("other-province", CP_BANTEAY_MEANCHEY_VERIFIER, 403),
        ("national", NATIONAL_VERIFIER, 200),
    ],
)
async def test_who_may_return(app, name, principal, status):
    created = await register(app)
    async with as_(app, principal) as client:
        response = await client.post(
            f"/households/{created['id']}/return",
            json={"reasons": ["Address missing"]},
            headers={"If-Match": '"1"'},
        )
    assert response.status_code == status, response.text


# --- reads --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "visible"),
    [
        ("commune", True),
        ("sibling-commune", False),
        ("parent-district", True),
        ("other-province", False),
        ("national", True),
    ],
)
async def test_reads_see_only_ones_own_area(app, infrastructure, name, visible):
    household = await household_at(infrastructure)
    principal = JURISDICTION[name]
    async with as_(app, principal) as client:
        by_id = await client.get(f"/households/{household.id}")
        by_code = await client.get(f"/households/by-code/{household.code}")
        listing = await client.get("/households")
        poverty = await client.get(f"/households/{household.id}/poverty-status/history")
        history = await client.get(f"/households/{household.id}/history")
        head = await client.get(f"/members/{household.head_member_id}")
        member_history = await client.get(f"/members/{household.head_member_id}/history")
    expected = 200 if visible else 404
    for response in (by_id, by_code, poverty, history, head, member_history):
        assert response.status_code == expected, (response.request.url, response.text)
    assert [h["code"] for h in listing.json()["items"]] == ([household.code] if visible else [])


async def test_machine_clients_and_anonymous_see_no_household(app, infrastructure):
    household = await household_at(infrastructure)
    for principal in (MACHINE, Principal.anonymous()):
        async with as_(app, principal) as client:
            assert (await client.get(f"/households/{household.id}")).status_code == 404
            assert (await client.get("/households")).json()["items"] == []


async def test_a_household_code_with_a_wrong_check_digit_is_422(app, infrastructure):
    household = await household_at(infrastructure)
    mistyped = household.code[:-1] + str((int(household.code[-1]) + 1) % 10)
    swapped = household.code[:-3] + household.code[-2] + household.code[-3] + household.code[-1]
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        found = await client.get(f"/households/by-code/{household.code.lower()}")
        wrong = await client.get(f"/households/by-code/{mistyped}")
        garbage = await client.get("/households/by-code/HH12")
        transposed = await client.get(f"/households/by-code/{swapped}")
    assert found.status_code == 200 and found.json()["id"] == str(household.id)
    assert "check digit" in assert_problem(wrong, 422, "#/path/code")["errors"][0]["reason"]
    assert_problem(garbage, 422, "#/path/code")
    if swapped != household.code:
        assert_problem(transposed, 422, "#/path/code")


async def test_unknown_household_and_member_are_404(app):
    async with as_(app, NATIONAL) as client:
        assert_problem(await client.get(f"/households/{uuid.uuid4()}"), 404)
        assert_problem(await client.get(f"/members/{uuid.uuid4()}"), 404)
        assert_problem(await client.get("/households/not-a-uuid"), 422, "#/path/household_id")


async def test_list_filters_by_location_status_and_code(app, infrastructure):
    own = await household_at(infrastructure, status="pending_verification")
    sibling = await household_at(infrastructure, village_code=VILLAGE_TUEK_THLA)
    await household_at(infrastructure, village_code=VILLAGE_BANTEAY_MEANCHEY)

    async def codes(principal, **params):
        async with as_(app, principal) as client:
            response = await client.get("/households", params=params)
        assert response.status_code == 200, response.text
        return [h["code"] for h in response.json()["items"]]

    assert await codes(DMK_SEN_SOK) == [own.code, sibling.code]
    assert await codes(DMK_SEN_SOK, location="120802") == [sibling.code]
    assert await codes(DMK_SEN_SOK, location=VILLAGE_PHNOM_PENH_THMEI) == [own.code]
    assert await codes(DMK_SEN_SOK, status="active") == [sibling.code]
    assert await codes(DMK_SEN_SOK, code=own.code) == [own.code]
    # A commune officer asking for its whole district still sees only its commune.
    assert await codes(CS_PHNOM_PENH_THMEI, location="1208") == [own.code]
    assert len(await codes(NATIONAL)) == 3


async def test_list_refuses_bad_filters(app):
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        outside = await client.get("/households", params={"location": "120802"})
        unknown = await client.get("/households", params={"location": "1299"})
        status = await client.get("/households", params={"status": "lost"})
        code = await client.get("/households", params={"code": "HH000000010"})
        cursor = await client.get("/households", params={"cursor": "nonsense"})
    assert_problem(outside, 403, "#/query/location")
    assert (
        "not a district" in assert_problem(unknown, 422, "#/query/location")["errors"][0]["reason"]
    )
    assert_problem(status, 422, "#/query/status")
    assert_problem(code, 422, "#/query/code")
    assert_problem(cursor, 400, "#/query/cursor")


async def test_list_pages_with_a_cursor(app, infrastructure):
    made = [await household_at(infrastructure) for _ in range(5)]
    seen, cursor = [], None
    async with as_(app, DMK_SEN_SOK) as client:
        while True:
            params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            page = (await client.get("/households", params=params)).json()
            seen += [h["code"] for h in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
    assert seen == sorted(h.code for h in made)


# --- sensitive fields and the access log -------------------------------------------------------


async def test_sensitive_fields_are_masked_for_viewers(app, infrastructure):
    household = await household_at(infrastructure)
    readers = {
        "officer": CS_PHNOM_PENH_THMEI,
        "verifier": DMK_SEN_SOK,
        "viewer": CP_PHNOM_PENH,
        "district-viewer": DMK_SEN_SOK_VIEWER,
    }
    seen = {}
    for name, principal in readers.items():
        async with as_(app, principal) as client:
            body = (await client.get(f"/households/{household.id}")).json()
            one = (await client.get(f"/members/{household.head_member_id}")).json()
        head = body["members"][0]
        assert (one["national_id"], one["phone"]) == (head["national_id"], head["phone"])
        seen[name] = (head["national_id"], head["phone"])
    assert seen["officer"] == seen["verifier"] == ("010203040", "+85512345678")
    assert seen["viewer"] == seen["district-viewer"] == ("*****3040", "+855******78")


async def test_a_household_read_is_exactly_its_documented_schema(app, infrastructure):
    """The household reads build their answer from rows, without the response model: the body
    must be what `HouseholdPublic` would have written, field for field, masked or not, and
    carry the version as ETag."""
    household = await household_at(infrastructure)
    for principal in (CS_PHNOM_PENH_THMEI, CP_PHNOM_PENH):
        async with as_(app, principal) as client:
            for path in (f"/households/{household.id}", f"/households/by-code/{household.code}"):
                response = await client.get(path)
                assert response.status_code == 200, response.text
                body = response.json()
                assert HouseholdPublic.model_validate(body).model_dump(mode="json") == body
                assert response.headers["etag"] == f'"{body["version"]}"'
                assert [m["relationship"] for m in body["members"]] == ["head", "child"]


async def test_every_read_by_a_person_is_logged(app, infrastructure):
    household = await household_at(infrastructure)
    async with as_(app, CP_PHNOM_PENH) as client:
        await client.get(f"/households/{household.id}")
        await client.get(f"/households/by-code/{household.code}")
        await client.get(f"/members/{household.head_member_id}")
    async with as_(app, DMK_SEN_SOK) as client:
        await client.get(f"/households/{household.id}")
    async with as_(app, CS_TUEK_THLA) as client:
        await client.get(f"/households/{household.id}")  # 404: nothing read, nothing logged
    async with app.state.database.transaction() as session:
        rows = (
            (await session.execute(select(PersonalDataAccess).order_by(PersonalDataAccess.id)))
            .scalars()
            .all()
        )
    assert [(r.actor_sub, r.entity, r.purpose, r.sensitive_fields) for r in rows] == [
        (CP_PHNOM_PENH.sub, "household", "registry_get_household", False),
        (CP_PHNOM_PENH.sub, "household", "registry_get_household_by_code", False),
        (CP_PHNOM_PENH.sub, "member", "registry_get_member", False),
        (DMK_SEN_SOK.sub, "household", "registry_get_household", True),
    ]
    assert {r.household_id for r in rows} == {household.id}
    assert all(r.request_id for r in rows)
    assert [r.actor_tier for r in rows] == ["cp", "cp", "cp", "dmk"]


# --- events on the broker ---------------------------------------------------------------------


async def test_registration_and_verification_events_reach_their_topics(
    infrastructure, clean_databases
):
    app = create_app(registry_settings(infrastructure, relay_enabled=True))
    async with running(app):
        created = await register(app)
        async with as_(app, DMK_SEN_SOK) as client:
            await client.post(f"/households/{created['id']}/verify", headers={"If-Match": '"1"'})
        member_ids = {m["id"] for m in created["members"]}

        def household_events(records):
            return [e for e in envelopes(records) if e.get("subject") == created["id"]]

        households = household_events(
            await read_topic(
                infrastructure.bootstrap_servers,
                "sp.registry.household",
                until=lambda r: len(household_events(r)) >= 2,
            )
        )
    assert [e["type"] for e in households] == [
        "kh.gov.sp.registry.household.registered.v1",
        "kh.gov.sp.registry.household.verified.v1",
    ]
    assert {e["jurisdiction"] for e in households} == {VILLAGE_PHNOM_PENH_THMEI}
    assert households[1]["data"]["status"] == "active"
    members = households[0]["data"]["members"]  # registered with the household
    assert {m["member_id"] for m in members} == member_ids
    assert sorted(m["relationship"] for m in members) == ["child", "head", "spouse"]
