"""Programmes: the seed programmes loaded by migration, read by everyone authenticated in
Khmer or English, defined and changed by the national tier with validated rules."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from services.registry.audit.models import RecordChange
from services.registry.programmes.models import Programme
from services.registry.programmes.rules import check_rules_fit_target, parse_rules
from tests.harness import (
    CP_BANTEAY_MEANCHEY,
    CS_PHNOM_PENH_THMEI,
    CS_TUEK_THLA,
    DMK_SEN_SOK,
    NATIONAL,
)
from tests.registry.conftest import as_
from tests.registry.programme_support import (
    CLIENT_WITHOUT_SCOPE,
    MOH_CLIENT,
    NATIONAL_VERIFIER,
    ON_THE_DAY,
    assert_problem,
)

# Their households, enrolments and benefits describe 21 November 2026: so does the clock.
pytestmark = ON_THE_DAY

SEEDS = {
    "DISABILITY_ALLOWANCE",
    "FAMILY_PACKAGE",
    "FOOD_AID",
    "HEALTH_EQUITY_FUND",
    "PRIMARY_SCHOLARSHIP",
}


def new_code() -> str:
    return "TEST_" + uuid.uuid4().hex[:10].upper()


def programme_body(**fields) -> dict:
    return {
        "code": new_code(),
        "name_km": "ជំនួយសាកល្បង",
        "name_en": "Pilot grant",
        "owner_ministry": "MoSVY",
        "target": "household",
        "eligibility": {
            "kind": "all",
            "rules": [
                {"kind": "poverty_level", "levels": ["POOR_1"]},
                {"kind": "location", "prefixes": ["1208"]},
            ],
        },
        "benefit_amount_khr": 50_000,
        "benefit_period": "quarterly",
        **fields,
    }


async def programme_rows(app, code: str) -> int:
    async with app.state.database.transaction() as session:
        return (
            await session.execute(
                select(func.count()).select_from(Programme).where(Programme.code == code)
            )
        ).scalar_one()


# -- seed and read ---------------------------------------------------------------------------


async def test_the_five_seed_programmes_are_listed_with_english_labels(app):
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        response = await client.get("/programmes", params={"limit": 500})
    assert response.status_code == 200
    assert response.headers["content-language"] == "en"
    by_code = {p["code"]: p for p in response.json()["items"]}
    assert set(by_code) >= SEEDS
    family = by_code["FAMILY_PACKAGE"]
    assert family["name"] == "Family Package"
    assert family["target"] == {"code": "household", "label": "Household"}
    assert family["benefit"] == {
        "amount_khr": 80_000,
        "in_kind_item": None,
        "period": {"code": "monthly", "label": "Monthly"},
    }
    assert "a member who is pregnant" in family["eligibility_summary"]
    assert by_code["FOOD_AID"]["benefit"]["in_kind_item"] == "Rice, 50 kg"
    assert by_code["DISABILITY_ALLOWANCE"]["target"]["code"] == "individual"


async def test_labels_follow_accept_language(app):
    async with as_(app, DMK_SEN_SOK) as client:
        khmer = await client.get(
            "/programmes/FAMILY_PACKAGE", headers={"Accept-Language": "km-KH,en;q=0.5"}
        )
        english = await client.get(
            "/programmes/FAMILY_PACKAGE", headers={"Accept-Language": "fr, en;q=0.8, km;q=0.2"}
        )
    assert khmer.headers["content-language"] == "km"
    assert khmer.json()["name"] == "កញ្ចប់គ្រួសារ"
    assert khmer.json()["benefit"]["period"]["label"] == "ប្រចាំខែ"
    assert english.json()["name"] == "Family Package"
    assert khmer.headers["etag"] == '"1"' or khmer.headers["etag"].startswith('"')


async def test_every_seed_programmes_rules_parse_and_fit_its_target(app):
    async with app.state.database.transaction() as session:
        rows = (
            (await session.execute(select(Programme).where(Programme.code.in_(SEEDS))))
            .scalars()
            .all()
        )
    assert {p.code for p in rows} == SEEDS
    for programme in rows:
        check_rules_fit_target(parse_rules(programme.eligibility), programme.target)
        assert (programme.benefit_amount_khr is None) != (programme.benefit_in_kind_item is None)


@pytest.mark.parametrize(
    "principal",
    [NATIONAL, CP_BANTEAY_MEANCHEY, DMK_SEN_SOK, CS_PHNOM_PENH_THMEI, CS_TUEK_THLA, MOH_CLIENT],
)
async def test_every_tier_and_a_scoped_client_read_programmes(app, principal):
    async with as_(app, principal) as client:
        one = await client.get("/programmes/HEALTH_EQUITY_FUND")
    assert one.status_code == 200
    assert one.json()["owner_ministry"] == "Ministry of Health (MoH)"


async def test_an_unknown_programme_is_404(app):
    async with as_(app, NATIONAL) as client:
        assert_problem(await client.get("/programmes/NO_SUCH_THING"), 404)


# -- defining --------------------------------------------------------------------------------


async def test_a_national_verifier_defines_a_programme(app):
    body = programme_body()
    async with as_(app, NATIONAL_VERIFIER) as client:
        created = await client.post("/programmes", json=body, headers={"Idempotency-Key": "p-1"})
        again = await client.post("/programmes", json=body, headers={"Idempotency-Key": "p-1"})
        read = await client.get(f"/programmes/{body['code']}")
    assert created.status_code == 201, created.text
    assert created.headers["location"] == f"/programmes/{body['code']}"
    assert again.headers["idempotent-replayed"] == "true"
    assert read.json()["eligibility"] == {
        "kind": "all",
        "rules": [
            {"kind": "poverty_level", "levels": ["POOR_1"], "require_valid": True},
            {"kind": "location", "prefixes": ["1208"]},
        ],
    }
    assert read.json()["benefit"]["period"]["code"] == "quarterly"
    assert await programme_rows(app, body["code"]) == 1
    async with app.state.database.transaction() as session:
        history = (
            await session.execute(
                select(RecordChange).where(
                    RecordChange.entity == "programme", RecordChange.entity_id == read.json()["id"]
                )
            )
        ).scalar_one()
    assert history.action == "created" and history.actor_sub == "national-verifier"


@pytest.mark.parametrize(
    "principal", [NATIONAL, DMK_SEN_SOK, CS_PHNOM_PENH_THMEI, CP_BANTEAY_MEANCHEY, MOH_CLIENT]
)
async def test_only_a_national_verifier_may_define_programmes(app, principal):
    body = programme_body()
    async with as_(app, principal) as client:
        response = await client.post("/programmes", json=body)
    assert_problem(response, 403)
    assert await programme_rows(app, body["code"]) == 0


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"code": "family package"}, "code", "pattern"),
        ({"target": "village"}, "target", "household"),
        ({"eligibility": {"kind": "wealth", "min": 3}}, "eligibility", "wealth"),
        (
            {"eligibility": {"kind": "age", "unit": "years", "min": 10, "max": 5}},
            "eligibility.age",
            "min must not exceed max",
        ),
        (
            {"eligibility": {"kind": "pregnant"}},
            "eligibility",
            "tests members only inside has_member",
        ),
        (
            {
                "eligibility": {
                    "kind": "has_member",
                    "where": {"kind": "poverty_level", "levels": ["POOR_1"]},
                }
            },
            "eligibility.has_member",
            "only member rules",
        ),
        (
            {"eligibility": {"kind": "location", "prefixes": ["1299"]}},
            "eligibility.location.prefixes",
            "not in the NCDD gazetteer",
        ),
        (
            {"eligibility": {"kind": "poverty_level", "levels": ["RICH"]}},
            "eligibility.poverty_level.levels.0",
            "POOR_1",
        ),
        ({"benefit_in_kind_item": "Rice"}, "benefit_in_kind_item", "either"),
        ({"benefit_amount_khr": -5}, "benefit_amount_khr", "greater than 0"),
        ({"benefit_period": "weekly"}, "benefit_period", "monthly"),
        ({"colour": "red"}, "colour", "Extra inputs"),
    ],
)
async def test_bad_programmes_are_refused_naming_the_field(app, change, field, reason):
    body = programme_body(**change)
    async with as_(app, NATIONAL_VERIFIER) as client:
        response = await client.post("/programmes", json=body)
    problem = assert_problem(response, 422)
    matching = [e for e in problem["errors"] if e["field"].startswith(field)]
    assert matching, problem
    assert any(reason in e["reason"] for e in matching), problem
    assert await programme_rows(app, body["code"]) == 0


async def test_a_duplicate_code_is_a_conflict(app):
    async with as_(app, NATIONAL_VERIFIER) as client:
        response = await client.post("/programmes", json=programme_body(code="FAMILY_PACKAGE"))
    assert_problem(response, 409)


# -- changing --------------------------------------------------------------------------------


async def test_a_programme_changes_with_if_match_and_history(app):
    body = programme_body()
    url = f"/programmes/{body['code']}"
    async with as_(app, NATIONAL_VERIFIER) as client:
        await client.post("/programmes", json=body)
        missing = await client.patch(url, json={"benefit_amount_khr": 60_000})
        changed = await client.patch(
            url,
            json={"benefit_amount_khr": None, "benefit_in_kind_item": "Rice, 25 kg"},
            headers={"If-Match": '"1"'},
        )
        stale = await client.patch(url, json={"active": False}, headers={"If-Match": '"1"'})
        deactivated = await client.patch(url, json={"active": False}, headers={"If-Match": '"2"'})
        inactive_only = await client.get("/programmes", params={"active": "false", "limit": 500})
    assert_problem(missing, 428)
    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] == '"2"'
    assert changed.json()["benefit"]["in_kind_item"] == "Rice, 25 kg"
    assert changed.json()["benefit"]["amount_khr"] is None
    assert_problem(stale, 412)
    assert deactivated.json()["active"] is False
    assert body["code"] in {p["code"] for p in inactive_only.json()["items"]}
    assert "FAMILY_PACKAGE" not in {p["code"] for p in inactive_only.json()["items"]}
    async with app.state.database.transaction() as session:
        actions = (
            await session.execute(
                select(RecordChange.action, RecordChange.changes)
                .where(RecordChange.entity == "programme")
                .order_by(RecordChange.id)
            )
        ).all()
    assert [a for a, _ in actions] == ["created", "updated", "updated"]
    assert actions[1][1]["benefit_in_kind_item"] == {"from": None, "to": "Rice, 25 kg"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"benefit_in_kind_item": "Rice"}, "benefit_in_kind_item"),
        ({"benefit_amount_khr": None}, "benefit_amount_khr"),
        ({"eligibility": {"kind": "sex", "sex": "female"}}, "eligibility"),
        ({"name_en": None}, "name_en"),
        ({"code": "OTHER"}, "code"),
    ],
)
async def test_an_incoherent_change_is_refused_and_nothing_changes(app, change, field):
    body = programme_body()
    url = f"/programmes/{body['code']}"
    async with as_(app, NATIONAL_VERIFIER) as client:
        await client.post("/programmes", json=body)
        response = await client.patch(url, json=change, headers={"If-Match": '"1"'})
        after = await client.get(url)
    assert_problem(response, 422, field)
    assert after.json()["version"] == 1


async def test_a_commune_cannot_change_a_programme(app):
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        response = await client.patch(
            "/programmes/FAMILY_PACKAGE", json={"active": False}, headers={"If-Match": '"1"'}
        )
    assert_problem(response, 403)


# -- through the gateway ---------------------------------------------------------------------


async def test_programmes_through_the_gateway(platform, clean_databases):
    body = programme_body()
    async with platform.client("client:moh-health-equity") as client:
        listed = await client.get("/registry/programmes")
    async with platform.client("client:partner-without-scope") as client:
        refused_client = await client.get("/registry/programmes")
    async with platform.client("cs.tuek-thla") as client:
        read = await client.get("/registry/programmes/FOOD_AID")
        refused_commune = await client.post("/registry/programmes", json=body)
    async with platform.client("dmk.sen-sok") as client:
        refused_district = await client.post("/registry/programmes", json=body)
    async with platform.client("national.officer") as client:
        created = await client.post("/registry/programmes", json=body)
    assert listed.status_code == 200 and listed.json()["items"]
    assert refused_client.status_code == 403
    assert read.status_code == 200
    assert refused_commune.status_code == 403 and refused_district.status_code == 403
    assert created.status_code == 201, created.text


async def test_a_client_without_scope_is_refused_by_the_service_too(app):
    async with as_(app, CLIENT_WITHOUT_SCOPE) as client:
        response = await client.post("/programmes", json=programme_body())
    assert_problem(response, 403)
