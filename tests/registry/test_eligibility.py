"""The eligibility engine (pure functions over facts) and the endpoint that shows, for a
household, every active programme's verdict and why."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from services.registry.programmes.eligibility import (
    HouseholdFacts,
    MemberFacts,
    age_in_months,
    describe,
    evaluate,
    evaluate_member,
    failing_codes,
)
from services.registry.programmes.rules import parse_rules
from tests.harness import (
    CP_BANTEAY_MEANCHEY,
    CS_PHNOM_PENH_THMEI,
    CS_TUEK_THLA,
    DMK_SEN_SOK,
    NATIONAL,
)
from tests.registry.conftest import as_
from tests.registry.programme_support import ON_THE_DAY, assert_problem, family_household

# Their households, enrolments and benefits describe 21 November 2026: so does the clock.
pytestmark = ON_THE_DAY

ON = date(2026, 11, 21)
POOR = {"kind": "poverty_level", "id": "poor", "levels": ["POOR_1", "POOR_2"]}


def household(level="POOR_1", valid_until=None, categories=(), village="12080102"):
    return HouseholdFacts(village, level, valid_until, tuple(categories))


def person(birth: date, **fields) -> MemberFacts:
    return MemberFacts(id=uuid.uuid4(), sex=fields.pop("sex", "female"), birth_date=birth, **fields)


def check(rule: dict, facts: HouseholdFacts, members=(), target="household"):
    return evaluate(parse_rules(rule), target=target, household=facts, members=members, on=ON)


# -- ages ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("birth", "months"),
    [
        (date(2024, 11, 21), 24),
        (date(2024, 11, 22), 23),  # the day before the 2nd birthday: still under 2
        (date(2026, 11, 21), 0),
        (date(2026, 11, 22), -1),
        (date(1966, 11, 21), 720),
        (date(2024, 2, 29), 32),
    ],
)
def test_age_in_completed_months(birth, months):
    assert age_in_months(birth, ON) == months


@pytest.mark.parametrize(
    ("birth", "passed", "code"),
    [
        (date(2024, 11, 22), True, "age.ok"),
        (date(2024, 11, 21), False, "age.above_max"),
        (date(2027, 1, 1), False, "age.not_born"),
    ],
)
def test_under_two_means_at_most_23_completed_months(birth, passed, code):
    rule = {"kind": "has_member", "where": {"kind": "age", "unit": "months", "max": 23}}
    child = person(birth)
    result = check(rule, household(), [child])
    assert result.eligible is passed
    inner = evaluate_member(
        parse_rules({"kind": "age", "unit": "months", "max": 23}),
        household=household(),
        members=[child],
        member_id=child.id,
        on=ON,
    )
    assert inner.outcome.code == code


# -- household rules -------------------------------------------------------------------------


def test_idpoor_level_and_validity():
    assert check(POOR, household("POOR_2")).eligible
    not_poor = check(POOR, household("NOT_POOR"))
    assert not not_poor.eligible and not_poor.outcome.code == "poverty_level.not_listed"
    assert not_poor.outcome.params == {"level": "NOT_POOR", "levels": ["POOR_1", "POOR_2"]}
    expired = check(POOR, household("POOR_1", valid_until=date(2026, 11, 20)))
    assert expired.outcome.code == "poverty_level.expired"
    lenient = {**POOR, "require_valid": False}
    assert check(lenient, household("POOR_1", valid_until=date(2020, 1, 1))).eligible


def test_vulnerability_and_location():
    rule = {"kind": "vulnerability", "categories": ["elderly", "under_2"]}
    assert check(rule, household("NOT_POOR", categories=["under_2"])).eligible
    assert check(rule, household(categories=["female_headed"])).outcome.code == (
        "vulnerability.none"
    )
    where = {"kind": "location", "prefixes": ["1208", "01"]}
    assert check(where, household(village="01020101")).eligible
    assert check(where, household(village="12090101")).outcome.code == "location.outside"


# -- member rules and combinators ------------------------------------------------------------


def test_has_member_counts_only_active_members_and_min_count():
    rule = {"kind": "has_member", "min_count": 2, "where": {"kind": "sex", "sex": "male"}}
    boys = [person(date(2010, 1, 1), sex="male"), person(date(2012, 1, 1), sex="male")]
    assert check(rule, household(), boys).eligible
    one_left = [boys[0], person(date(2012, 1, 1), sex="male", status="deceased")]
    result = check(rule, household(), one_left)
    assert not result.eligible
    assert result.outcome.code == "has_member.too_few"
    assert result.outcome.member_ids == (boys[0].id,)
    assert result.outcome.reason == "only 1 active member(s) who is male; 2 needed"


def test_pregnancy_disability_and_school():
    due = person(date(1998, 1, 1), pregnant=True, pregnancy_expected_on=date(2027, 2, 1))
    overdue = person(date(1998, 1, 1), pregnant=True, pregnancy_expected_on=date(2026, 10, 1))
    pregnant = {"kind": "has_member", "where": {"kind": "pregnant"}}
    assert check(pregnant, household(), [due]).eligible
    assert not check(pregnant, household(), [overdue]).eligible
    medium = {"kind": "disability", "min_severity": "medium"}
    for severity, ok in (("severe", True), ("medium", True), ("mild", False), (None, False)):
        someone = person(date(1970, 1, 1), disability_severity=severity)
        result = evaluate_member(
            parse_rules(medium),
            household=household(),
            members=[someone],
            member_id=someone.id,
            on=ON,
        )
        assert result.eligible is ok, severity
    pupil = person(date(2016, 1, 1), school_enrolment="primary")
    school = {"kind": "school_enrolment", "levels": ["primary"]}
    assert check({"kind": "has_member", "where": school}, household(), [pupil]).eligible


def test_any_lists_every_failed_alternative_and_all_only_the_failing_ones():
    rule = {
        "kind": "all",
        "rules": [
            POOR,
            {
                "kind": "any",
                "id": "vulnerable",
                "rules": [
                    {"kind": "has_member", "id": "pregnant", "where": {"kind": "pregnant"}},
                    {
                        "kind": "has_member",
                        "id": "elderly",
                        "where": {"kind": "age", "unit": "years", "min": 60},
                    },
                ],
            },
        ],
    }
    adult = person(date(1990, 1, 1))
    result = check(rule, household("POOR_1"), [adult])
    assert not result.eligible
    assert [o.id for o in result.failing()] == ["pregnant", "elderly"]
    assert failing_codes(result.failing()) == [
        "pregnant: no active member who is pregnant",
        "elderly: no active member who is aged 60 years or more",
    ]
    assert check(rule, household("POOR_1"), [person(date(1950, 1, 1))]).eligible
    assert describe(parse_rules(rule)) == (
        "all of (IDPoor level POOR_1 or POOR_2; any of (a member who is pregnant; "
        "a member who is aged 60 years or more))"
    )


def test_an_individual_programme_names_who_qualifies():
    rule = {
        "kind": "all",
        "rules": [{"kind": "age", "unit": "years", "min": 6, "max": 14}, POOR],
    }
    pupil, toddler = person(date(2016, 5, 5)), person(date(2024, 5, 5))
    result = check(rule, household("POOR_2"), [pupil, toddler], target="individual")
    assert result.eligible and result.qualifying_member_ids == (pupil.id,)
    assert [m.eligible for m in result.members] == [True, False]
    nobody = check(rule, household("NOT_POOR"), [pupil], target="individual")
    assert not nobody.eligible and nobody.qualifying_member_ids == ()
    empty = check(rule, household(), [], target="individual")
    assert empty.outcome.code == "member.none_active"
    departed = evaluate_member(
        parse_rules(rule), household=household(), members=[pupil], member_id=uuid.uuid4(), on=ON
    )
    assert departed.outcome.code == "member.not_active"


def test_outcomes_serialise_to_plain_json():
    rule = {"kind": "all", "rules": [POOR, {"kind": "has_member", "where": {"kind": "pregnant"}}]}
    mother = person(date(1995, 1, 1), pregnant=True)
    data = check(rule, household(valid_until=date(2027, 1, 1)), [mother]).outcome.as_dict()
    assert data["passed"] is True
    assert data["rules"][0]["params"] == {"level": "POOR_1", "valid_until": "2027-01-01"}
    assert data["rules"][1]["member_ids"] == [str(mother.id)]


# -- the endpoint ----------------------------------------------------------------------------


async def test_a_households_verdict_for_every_active_programme(app, infrastructure):
    household_row = await family_household(infrastructure, poverty_level="POOR_2")
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        response = await client.get(
            f"/households/{household_row.id}/eligibility", params={"on": "2026-11-21"}
        )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["household_code"] == household_row.code and body["enrollable"] is True
    assert body["evaluated_on"] == "2026-11-21"
    verdicts = {p["programme_code"]: p for p in body["programmes"]}
    assert verdicts["FAMILY_PACKAGE"]["eligible"] is True
    assert verdicts["HEALTH_EQUITY_FUND"]["eligible"] is True
    food = verdicts["FOOD_AID"]
    assert food["eligible"] is False
    assert [f["code"] for f in food["failing"]] == ["poverty_level.not_listed"]
    scholarship = verdicts["PRIMARY_SCHOLARSHIP"]
    assert scholarship["eligible"] is False and len(scholarship["members"]) == 2
    assert all(not m["eligible"] for m in scholarship["members"])


async def test_the_evaluation_date_changes_the_verdict(app, infrastructure):
    household_row = await family_household(infrastructure)  # the child was born 2025-09-01
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        later = await client.get(
            f"/households/{household_row.id}/eligibility", params={"on": "2027-09-01"}
        )
        bad = await client.get(f"/households/{household_row.id}/eligibility", params={"on": "x"})
    family = next(p for p in later.json()["programmes"] if p["programme_code"] == "FAMILY_PACKAGE")
    assert family["eligible"] is False
    assert {f["id"] for f in family["failing"]} >= {"child_under_2"}
    assert_problem(bad, 422, "query.on")


async def test_a_pending_household_is_shown_as_not_enrollable(app, infrastructure):
    household_row = await family_household(infrastructure, status="pending_verification")
    async with as_(app, DMK_SEN_SOK) as client:
        body = (await client.get(f"/households/{household_row.id}/eligibility")).json()
    assert body["household_status"] == "pending_verification" and body["enrollable"] is False


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
async def test_eligibility_jurisdiction(app, infrastructure, principal, visible):
    household_row = await family_household(infrastructure)
    async with as_(app, principal) as client:
        response = await client.get(f"/households/{household_row.id}/eligibility")
    if visible:
        assert response.status_code == 200
    else:
        assert_problem(response, 404)


async def test_an_unknown_household_is_404(app):
    async with as_(app, NATIONAL) as client:
        assert_problem(await client.get(f"/households/{uuid.uuid4()}/eligibility"), 404)
        assert_problem(await client.get("/households/not-a-uuid/eligibility"), 422)
