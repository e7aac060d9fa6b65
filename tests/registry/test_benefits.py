"""Benefit records: recorded for enrolled enrolments only, one per period of the programme's
kind, cash or in kind as the programme gives; status scheduled -> paid/failed -> returned with
If-Match; events on `sp.registry.benefit`."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from services.registry.audit.models import RecordChange
from services.registry.benefits.models import BenefitRecord
from services.registry.benefits.periods import period_kind_and_start, period_start
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
from tests.registry.factories import VILLAGE_PHNOM_PENH_THMEI
from tests.registry.programme_support import (
    CP_BANTEAY_MEANCHEY_VERIFIER,
    NATIONAL_VERIFIER,
    ON_THE_DAY,
    assert_problem,
    family_household,
    outbox_count,
    relaying_registry_app,
)

# Their households, enrolments and benefits describe 21 November 2026: so does the clock.
pytestmark = ON_THE_DAY

BENEFIT = "kh.gov.sp.registry.benefit"
PAID = {
    "period": "2026-10",
    "amount_khr": 80_000,
    "channel": "cash_wing",
    "status": "paid",
    "delivered_on": "2026-10-28",
}


async def enrolled(app, household, programme="FAMILY_PACKAGE") -> dict:
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        proposed = await client.post(
            "/enrolments",
            json={"household_id": str(household.id), "programme_code": programme},
        )
    assert proposed.json()["status"] == "proposed", proposed.text
    async with as_(app, DMK_SEN_SOK) as client:
        approved = await client.post(
            f"/enrolments/{proposed.json()['id']}/approve", headers={"If-Match": '"1"'}
        )
    assert approved.status_code == 200, approved.text
    return approved.json()


async def record(app, enrolment, body=PAID, principal=CS_PHNOM_PENH_THMEI, **headers):
    async with as_(app, principal) as client:
        return await client.post(
            f"/enrolments/{enrolment['id']}/benefits", json=body, headers=headers
        )


async def benefit_rows(app) -> int:
    async with app.state.database.transaction() as session:
        return (await session.execute(select(func.count()).select_from(BenefitRecord))).scalar_one()


# -- periods ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "kind", "start"),
    [
        ("2026-11", "monthly", date(2026, 11, 1)),
        ("2026-Q1", "quarterly", date(2026, 1, 1)),
        ("2026-Q4", "quarterly", date(2026, 10, 1)),
        ("2026", "yearly", date(2026, 1, 1)),
    ],
)
def test_periods_have_a_kind_and_a_first_day(period, kind, start):
    assert period_kind_and_start(period) == (kind, start)


@pytest.mark.parametrize("period", ["2026-13", "2026-Q5", "26-11", "2026-11-05", "1999", "x"])
def test_malformed_periods_are_refused(period):
    with pytest.raises(ValueError):
        period_kind_and_start(period)


def test_a_period_must_be_of_the_programmes_kind():
    assert period_start("2026-Q2", "quarterly") == date(2026, 4, 1)
    assert period_start("2026-Q2", "one_off") == date(2026, 4, 1)
    with pytest.raises(ValueError, match="like 2026-11"):
        period_start("2026-Q2", "monthly")


# -- recording -------------------------------------------------------------------------------


async def test_a_paid_benefit_is_recorded_with_history_and_event(app, infrastructure):
    household = await family_household(infrastructure)
    enrolment = await enrolled(app, household)
    response = await record(app, enrolment, **{"Idempotency-Key": "b-1"})
    replay = await record(app, enrolment, **{"Idempotency-Key": "b-1"})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["period"] == "2026-10" and body["amount_khr"] == 80_000
    assert body["status"] == "paid" and body["delivered_on"] == "2026-10-28"
    assert body["programme_code"] == "FAMILY_PACKAGE"
    assert body["household_id"] == str(household.id)
    assert response.headers["location"] == f"/benefits/{body['id']}"
    assert replay.json()["id"] == body["id"]
    assert await benefit_rows(app) == 1
    assert await outbox_count(app, f"{BENEFIT}.recorded.v1") == 1
    async with as_(app, DMK_SEN_SOK) as client:
        one = await client.get(f"/benefits/{body['id']}")
        listed = await client.get(f"/enrolments/{enrolment['id']}/benefits")
    assert one.headers["etag"] == '"1"'
    assert [b["id"] for b in listed.json()["items"]] == [body["id"]]
    async with app.state.database.transaction() as session:
        history = (
            await session.execute(
                select(RecordChange).where(RecordChange.entity_id == uuid.UUID(body["id"]))
            )
        ).scalar_one()
    assert history.entity == "benefit" and history.action == "recorded"
    assert history.household_id == household.id


async def test_one_benefit_per_period(app, infrastructure):
    enrolment = await enrolled(app, await family_household(infrastructure))
    assert (await record(app, enrolment)).status_code == 201
    duplicate = await record(app, enrolment, {**PAID, "amount_khr": 1_000})
    assert "already recorded" in assert_problem(duplicate, 409)["detail"]
    next_month = await record(
        app, enrolment, {"period": "2026-11", "amount_khr": 80_000, "channel": "bank"}
    )
    assert next_month.json()["status"] == "scheduled"
    assert await benefit_rows(app) == 2


async def test_benefits_only_for_enrolled_enrolments(app, infrastructure):
    household = await family_household(infrastructure)
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        proposed = (
            await client.post(
                "/enrolments",
                json={"household_id": str(household.id), "programme_code": "FAMILY_PACKAGE"},
            )
        ).json()
    assert "enrolled" in assert_problem(await record(app, proposed), 409)["detail"]
    enrolment = await enrolled(app, await family_household(infrastructure))
    async with as_(app, DMK_SEN_SOK) as client:
        await client.post(
            f"/enrolments/{enrolment['id']}/suspend",
            json={"reason": "Investigating a complaint"},
            headers={"If-Match": '"2"'},
        )
    assert_problem(await record(app, enrolment), 409)
    assert await benefit_rows(app) == 0


async def test_in_kind_and_yearly_programmes(app, infrastructure):
    household = await family_household(infrastructure)
    food = await enrolled(app, household, "FOOD_AID")
    rice = await record(
        app,
        food,
        {"period": "2026-Q3", "in_kind_item": "Rice, 50 kg", "channel": "in_kind"},
    )
    assert rice.status_code == 201, rice.text
    assert rice.json()["amount_khr"] is None
    wrong_kind = await record(app, food, {**PAID, "period": "2026-Q4"})
    assert_problem(wrong_kind, 422, "in_kind_item")
    monthly_for_quarterly = await record(
        app, food, {"period": "2026-11", "in_kind_item": "Rice", "channel": "in_kind"}
    )
    problem = assert_problem(monthly_for_quarterly, 422, "period")
    assert "like 2026-Q4" in problem["errors"][0]["reason"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"period": "2026-13"}, "period"),
        ({"period": "2026-Q4"}, "period"),  # the Family Package pays monthly
        ({"period": None}, "period"),
        ({"amount_khr": 0}, "amount_khr"),
        ({"amount_khr": "eighty thousand"}, "amount_khr"),
        ({"amount_khr": None}, "in_kind_item"),
        ({"in_kind_item": "Rice"}, "in_kind_item"),
        ({"channel": "pigeon"}, "channel"),
        ({"channel": "in_kind"}, "channel"),
        ({"delivered_on": None}, "delivered_on"),
        ({"delivered_on": str(date.today() + timedelta(days=3))}, "delivered_on"),
        ({"status": "returned", "delivered_on": None}, "delivered_on"),
        ({"status": "lost"}, "status"),
        ({"tip": 5}, "tip"),
    ],
)
async def test_bad_benefits_name_the_field_and_write_nothing(app, infrastructure, change, field):
    enrolment = await enrolled(app, await family_household(infrastructure))
    events_before = await outbox_count(app)
    response = await record(app, enrolment, {**PAID, **change})
    assert_problem(response, 422, field)
    assert await benefit_rows(app) == 0
    assert await outbox_count(app) == events_before


@pytest.mark.parametrize(
    ("principal", "status"),
    [
        (CS_PHNOM_PENH_THMEI, 201),
        (CS_TUEK_THLA, 404),
        (DMK_SEN_SOK, 201),
        (CP_BANTEAY_MEANCHEY_VERIFIER, 404),
        (NATIONAL, 403),  # sees it, but a viewer records nothing
        (NATIONAL_VERIFIER, 201),
    ],
)
async def test_recording_jurisdiction(app, infrastructure, principal, status):
    enrolment = await enrolled(app, await family_household(infrastructure))
    response = await record(app, enrolment, principal=principal)
    assert response.status_code == status, response.text
    assert await benefit_rows(app) == (1 if status == 201 else 0)


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
async def test_reading_benefits_jurisdiction(app, infrastructure, principal, visible):
    enrolment = await enrolled(app, await family_household(infrastructure))
    benefit = (await record(app, enrolment)).json()
    async with as_(app, principal) as client:
        one = await client.get(f"/benefits/{benefit['id']}")
        listed = await client.get(f"/enrolments/{enrolment['id']}/benefits")
    if visible:
        assert one.status_code == 200 and listed.status_code == 200
        assert listed.json()["items"][0]["id"] == benefit["id"]
    else:
        assert_problem(one, 404)
        assert_problem(listed, 404)


# -- status ----------------------------------------------------------------------------------


async def test_status_changes_follow_the_payment(app, infrastructure):
    enrolment = await enrolled(app, await family_household(infrastructure))
    scheduled = (
        await record(app, enrolment, {"period": "2026-11", "amount_khr": 80_000, "channel": "bank"})
    ).json()
    url = f"/benefits/{scheduled['id']}"
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        missing = await client.patch(url, json={"status": "failed"})
        undated = await client.patch(url, json={"status": "paid"}, headers={"If-Match": '"1"'})
        returned_early = await client.patch(
            url, json={"status": "returned"}, headers={"If-Match": '"1"'}
        )
        failed = await client.patch(
            url, json={"status": "failed", "reason": "Account closed"}, headers={"If-Match": '"1"'}
        )
        stale = await client.patch(
            url, json={"status": "paid", "delivered_on": "2026-11-20"}, headers={"If-Match": '"1"'}
        )
        paid = await client.patch(
            url, json={"status": "paid", "delivered_on": "2026-11-20"}, headers={"If-Match": '"2"'}
        )
        returned = await client.patch(
            url,
            json={"status": "returned", "reason": "Sent back by Wing"},
            headers={"If-Match": '"3"'},
        )
        final = await client.patch(
            url, json={"status": "paid", "delivered_on": "2026-11-20"}, headers={"If-Match": '"4"'}
        )
        bad = await client.patch(url, json={"status": "scheduled"}, headers={"If-Match": '"4"'})
    assert_problem(missing, 428)
    assert_problem(undated, 422, "delivered_on")
    assert_problem(returned_early, 409)
    assert failed.json()["status"] == "failed"
    assert failed.json()["status_reason"] == "Account closed"
    assert_problem(stale, 412)
    assert paid.json()["status"] == "paid" and paid.json()["delivered_on"] == "2026-11-20"
    assert returned.json()["status"] == "returned" and returned.headers["etag"] == '"4"'
    assert_problem(final, 409)
    assert_problem(bad, 422, "status")
    assert await outbox_count(app, f"{BENEFIT}.status_changed.v1") == 3


async def test_a_sibling_commune_cannot_change_a_benefit(app, infrastructure):
    enrolment = await enrolled(app, await family_household(infrastructure))
    benefit = (await record(app, enrolment)).json()
    async with as_(app, CS_TUEK_THLA) as client:
        response = await client.patch(
            f"/benefits/{benefit['id']}", json={"status": "returned"}, headers={"If-Match": '"1"'}
        )
    assert_problem(response, 404)


# -- events on the broker --------------------------------------------------------------------


async def test_benefit_events_reach_their_topic(infrastructure, clean_databases):
    async with relaying_registry_app(infrastructure) as app:
        household = await family_household(infrastructure)
        enrolment = await enrolled(app, household)
        benefit = (await record(app, enrolment)).json()
        async with as_(app, DMK_SEN_SOK) as client:
            await client.patch(
                f"/benefits/{benefit['id']}",
                json={"status": "returned", "reason": "Wrong recipient"},
                headers={"If-Match": '"1"'},
            )
        records = await read_topic(
            infrastructure.bootstrap_servers,
            "sp.registry.benefit",
            until=lambda rs: sum(e["subject"] == benefit["id"] for e in envelopes(rs)) >= 2,
        )
    mine = [e for e in envelopes(records) if e["subject"] == benefit["id"]]
    assert [e["type"] for e in mine] == [
        f"{BENEFIT}.recorded.v1",
        f"{BENEFIT}.status_changed.v1",
    ]
    assert {e["jurisdiction"] for e in mine} == {VILLAGE_PHNOM_PENH_THMEI}
    assert mine[0]["data"] == {
        "benefit_id": benefit["id"],
        "enrolment_id": enrolment["id"],
        "programme_code": "FAMILY_PACKAGE",
        "household_id": str(household.id),
        "member_id": None,
        "village_code": VILLAGE_PHNOM_PENH_THMEI,
        "period": "2026-10",
        "amount_khr": 80_000,
        "in_kind_item": None,
        "channel": "cash_wing",
        "status": "paid",
        "delivered_on": "2026-10-28",
    }
    assert mine[1]["data"]["status"] == "returned"
    assert mine[1]["data"]["previous_status"] == "paid"
