"""IDPoor status: set with its history and event, checked for impossible combinations, and
queried by expiry ("equity cards expiring in the next 90 days in my district")."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from services.registry.households import service
from services.registry.households.models import Household, PovertyStatusRecord
from services.registry.households.schemas import PovertyStatusInput
from shared.problems import Problem
from tests.harness import (
    CP_BANTEAY_MEANCHEY,
    CS_PHNOM_PENH_THMEI,
    CS_TUEK_THLA,
    DMK_SEN_SOK,
    NATIONAL,
)
from tests.registry.conftest import as_
from tests.registry.factories import VILLAGE_BANTEAY_MEANCHEY, VILLAGE_TUEK_THLA
from tests.registry.test_households import (
    assert_problem,
    household_at,
    outbox_rows,
    register,
)

TODAY = date.today()


def poor(level="POOR_2", **fields) -> dict:
    body = {
        "level": level,
        "score": 61,
        "method": "ON_DEMAND",
        "assessed_on": str(TODAY - timedelta(days=10)),
        "valid_until": str(TODAY + timedelta(days=3 * 365)),
        "equity_card_number": "EC-120801-0042",
        "vulnerability_categories": ["female_headed", "under_2"],
    }
    body.update(fields)
    return body


async def test_setting_the_status_keeps_its_history_and_emits_the_change(app):
    created = await register(app)
    url = f"/households/{created['id']}"
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        first = await client.put(f"{url}/poverty-status", json=poor(), headers={"If-Match": '"1"'})
        second = await client.put(
            f"{url}/poverty-status",
            json=poor("POOR_1", method="ROUND", round_number=13, score=75),
            headers={"If-Match": first.headers["etag"]},
        )
        history = (await client.get(f"{url}/poverty-status/history")).json()
    assert first.status_code == 200, first.text
    assert second.status_code == 200, second.text
    current = second.json()["poverty_status"]
    assert (current["level"], current["round_number"], current["score"]) == ("POOR_1", 13, 75)
    assert [h["level"] for h in history["items"]] == ["POOR_2", "POOR_1"]
    assert history["items"][0]["vulnerability_categories"] == ["female_headed", "under_2"]
    events = [r for r in await outbox_rows(app) if r["type"].endswith("poverty_status_changed.v1")]
    assert [e["payload"]["previous_level"] for e in events] == ["UNASSESSED", "POOR_2"]
    assert events[-1]["topic"] == "sp.registry.household"
    assert events[-1]["jurisdiction"] == created["village_code"]
    assert events[-1]["payload"]["valid_until"] == poor()["valid_until"]
    assert events[-1]["payload"]["record_version"] == 3


IMPOSSIBLE_STATUSES = [
    ({"level": "UNASSESSED", "score": 40}, "#/score"),
    (poor(valid_until=None), "#/valid_until"),
    (poor(valid_until=str(TODAY - timedelta(days=20))), "#/valid_until"),
    (poor(assessed_on=str(TODAY + timedelta(days=2))), "#/assessed_on"),
    (poor("NOT_POOR", valid_until=None), "#/equity_card_number"),
    (poor(method="ROUND"), "#/round_number"),
    (poor(round_number=3), "#/round_number"),
    (poor(vulnerability_categories=["elderly", "elderly"]), "#/vulnerability_categories"),
    (poor(vulnerability_categories=["orphan"]), "#/vulnerability_categories/0"),
    (poor(level="POOR_3"), "#/level"),
    (poor(score=-1), "#/score"),
    (poor(method=None), "#/method"),
]


async def test_impossible_statuses_name_the_field_and_write_nothing(app):
    created = await register(app)
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        for status, pointer in IMPOSSIBLE_STATUSES:
            response = await client.put(
                f"/households/{created['id']}/poverty-status",
                json=status,
                headers={"If-Match": '"1"'},
            )
            problem = assert_problem(response, 422)
            pointers = [e["pointer"].replace("#/poverty_status/", "#/") for e in problem["errors"]]
            assert pointer in pointers, problem
    async with app.state.database.transaction() as session:
        assert (
            await session.execute(select(func.count()).select_from(PovertyStatusRecord))
        ).scalar_one() == 0


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
async def test_only_the_communes_officer_sets_it_before_verification(app, name, principal, status):
    created = await register(app)
    async with as_(app, principal) as client:
        response = await client.put(
            f"/households/{created['id']}/poverty-status", json=poor(), headers={"If-Match": '"1"'}
        )
    assert response.status_code == status, response.text


async def test_a_change_request_sets_the_status_of_an_active_household(app, infrastructure):
    household = await household_at(infrastructure)
    async with app.state.database.transaction() as session:
        row = await session.get(Household, household.id)
        await service.set_poverty_status(
            session,
            principal=DMK_SEN_SOK,
            household=row,
            status=PovertyStatusInput.model_validate(poor("POOR_1")),
        )
        with pytest.raises(Problem) as refused:
            await service.set_poverty_status(
                session,
                principal=CS_TUEK_THLA,
                household=row,
                status=PovertyStatusInput.model_validate(poor()),
            )
    assert refused.value.status == 403
    async with as_(app, DMK_SEN_SOK) as client:
        body = (await client.get(f"/households/{household.id}")).json()
    assert body["poverty_status"]["level"] == "POOR_1"
    assert body["poverty_status"]["equity_card_number"] == "EC-120801-0042"


async def test_cards_expiring_in_the_next_90_days_in_my_district(app, infrastructure):
    soon = TODAY + timedelta(days=30)

    async def at(village=None, level="POOR_1", valid_until=soon):
        extra = {"village_code": village} if village else {}
        return await household_at(
            infrastructure,
            poverty_level=level,
            poverty_valid_until=valid_until,
            poverty_assessed_on=TODAY - timedelta(days=1000),
            **extra,
        )

    expiring = await at()
    expiring_sibling = await at(VILLAGE_TUEK_THLA, level="POOR_2", valid_until=TODAY)
    await at(valid_until=TODAY + timedelta(days=200))  # later
    await at(valid_until=TODAY - timedelta(days=1))  # already expired
    await at(level="NOT_POOR")  # no card
    elsewhere = await at(VILLAGE_BANTEAY_MEANCHEY)  # another province

    window = {
        "poverty_valid_until_after": str(TODAY),
        "poverty_valid_until_before": str(TODAY + timedelta(days=90)),
    }

    async def codes(principal, **params):
        async with as_(app, principal) as client:
            response = await client.get("/households", params={**window, **params})
        assert response.status_code == 200, response.text
        return {h["code"] for h in response.json()["items"]}

    assert await codes(DMK_SEN_SOK) == {expiring.code, expiring_sibling.code}
    assert await codes(DMK_SEN_SOK, location="1208") == {expiring.code, expiring_sibling.code}
    assert await codes(DMK_SEN_SOK, poverty_level="POOR_2") == {expiring_sibling.code}
    assert await codes(CS_PHNOM_PENH_THMEI) == {expiring.code}
    assert await codes(CP_BANTEAY_MEANCHEY) == {elsewhere.code}
    async with as_(app, DMK_SEN_SOK) as client:
        bad = await client.get("/households", params={"poverty_valid_until_before": "soon"})
    assert_problem(bad, 422, "#/query/poverty_valid_until_before")


async def test_history_of_an_unknown_household_is_404(app):
    async with as_(app, NATIONAL) as client:
        response = await client.get(f"/households/{uuid.uuid4()}/poverty-status/history")
    assert_problem(response, 404)
