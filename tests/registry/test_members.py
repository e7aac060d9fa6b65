"""Members and direct edits: before verification the commune corrects a household directly
(If-Match on the household's ETag); once active, direct edits answer 409 and the change
functions are what an approved change request calls. Concurrent edits: exactly one wins."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from services.registry import workflows
from services.registry.audit.models import RecordChange
from services.registry.households import service
from services.registry.households.models import Household, Member
from services.registry.households.schemas import HouseholdUpdate, MemberCreate, MemberUpdate
from shared.problems import Problem
from tests.harness import (
    CP_BANTEAY_MEANCHEY,
    CS_PHNOM_PENH_THMEI,
    CS_TUEK_THLA,
    DMK_SEN_SOK,
    NATIONAL,
)
from tests.registry.conftest import as_
from tests.registry.factories import VILLAGE_PHNOM_PENH_THMEI
from tests.registry.test_households import (
    assert_problem,
    outbox_rows,
    person,
    register,
)

OTHER_VILLAGE_SAME_COMMUNE = "12080105"  # Phnom Penh Thmei village, same sangkat


async def pending(app) -> tuple[dict, str]:
    """A household registered through the API and its ETag."""
    created = await register(app)
    return created, f"/households/{created['id']}"


async def verified(app) -> tuple[dict, str]:
    _created, url = await pending(app)
    async with as_(app, DMK_SEN_SOK) as client:
        response = await client.post(f"{url}/verify", headers={"If-Match": '"1"'})
    assert response.status_code == 200
    return response.json(), url


def newborn(**fields) -> dict:
    values = {
        "given_name_km": "ស្រីនាង",
        "given_name_latin": "Sreyneang",
        "birth_date": str(date.today() - timedelta(days=200)),
        **fields,
    }
    return person("child", **values)


async def test_the_commune_adds_a_member_before_verification(app):
    created, url = await pending(app)
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        response = await client.post(f"{url}/members", json=newborn(), headers={"If-Match": '"1"'})
    assert response.status_code == 201, response.text
    body = response.json()
    assert len(body["members"]) == 4 and body["version"] == 2
    assert response.headers["etag"] == '"2"'
    added = next(m for m in body["members"] if m["given_name_latin"] == "Sreyneang")
    assert added["village_code"] == VILLAGE_PHNOM_PENH_THMEI
    event = (await outbox_rows(app))[-1]
    assert event["type"] == "kh.gov.sp.registry.member.added.v1"
    assert event["aggregate_id"] == added["id"]
    assert event["payload"]["household_id"] == created["id"]
    assert event["payload"]["birth_year"] == (date.today() - timedelta(days=200)).year


async def test_a_second_head_or_an_impossible_member_is_refused(app):
    _created, url = await pending(app)
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        head = await client.post(f"{url}/members", json=person(), headers={"If-Match": '"1"'})
        old_child = await client.post(
            f"{url}/members", json=newborn(birth_date="1970-01-01"), headers={"If-Match": '"1"'}
        )
        same_id = await client.post(
            f"{url}/members", json=newborn(national_id="010203040"), headers={"If-Match": '"1"'}
        )
    assert_problem(head, 422, "#/relationship")
    reason = assert_problem(old_child, 422, "#/birth_date")["errors"][0]["reason"]
    assert reason == "a child cannot be born before the head of household"
    assert_problem(same_id, 422, "#/national_id")
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        assert len((await client.get(url)).json()["members"]) == 3


async def test_the_commune_corrects_a_member(app):
    created, url = await pending(app)
    head = created["members"][0]
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        response = await client.patch(
            f"{url}/members/{head['id']}",
            json={"phone": "097 1234 567", "national_id": None, "given_name_latin": "Chanthy"},
            headers={"If-Match": '"1"'},
        )
    assert response.status_code == 200, response.text
    updated = response.json()["members"][0]
    assert (updated["phone"], updated["national_id"]) == ("+855971234567", None)
    assert updated["given_name_latin"] == "Chanthy" and updated["version"] == 2
    event = (await outbox_rows(app))[-1]
    assert event["type"] == "kh.gov.sp.registry.member.updated.v1"
    assert event["payload"]["changed_fields"] == ["given_name_latin", "national_id", "phone"]


BAD_CORRECTIONS = [
    ({"relationship": "head"}, "#/relationship"),
    ({"birth_date": None}, "#/birth_date"),
    ({"birth_date": "1970-05-05"}, "#/birth_date"),  # the child before the head
    ({"pregnant": True}, "#/pregnant"),  # a boy
    ({"phone": "12345"}, "#/phone"),
    ({"nickname": "Boy"}, "#/nickname"),
    ({}, "#/body"),
]


async def test_bad_member_corrections_name_the_field(app):
    created, url = await pending(app)
    child = created["members"][2]
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        for changes, pointer in BAD_CORRECTIONS:
            response = await client.patch(
                f"{url}/members/{child['id']}", json=changes, headers={"If-Match": '"1"'}
            )
            problem = assert_problem(response, 422)
            assert pointer in [e["pointer"] for e in problem["errors"]], problem
        after = (await client.get(url)).json()
    assert after["version"] == 1 and after["members"][2] == child


async def test_a_heads_new_birth_date_must_fit_the_children(app):
    created, url = await pending(app)
    head = created["members"][0]
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        refused = await client.patch(
            f"{url}/members/{head['id']}",
            json={"birth_date": "2008-01-01"},  # younger than the child born in 2012 + 12
            headers={"If-Match": '"1"'},
        )
        accepted = await client.patch(
            f"{url}/members/{head['id']}",
            json={"birth_date": "1984-03-14"},
            headers={"If-Match": '"1"'},
        )
    reason = assert_problem(refused, 422, "#/birth_date")["errors"][0]["reason"]
    assert "Sok Dara" in reason and "12 years younger" in reason
    assert accepted.status_code == 200, accepted.text


async def test_the_head_cannot_stop_being_head_by_a_correction(app):
    created, url = await pending(app)
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        response = await client.patch(
            f"{url}/members/{created['members'][0]['id']}",
            json={"relationship": "spouse"},
            headers={"If-Match": '"1"'},
        )
    assert_problem(response, 422, "#/relationship")


async def test_removing_a_member_keeps_the_record_with_its_status(app):
    created, url = await pending(app)
    spouse = created["members"][1]
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        removed = await client.post(
            f"{url}/members/{spouse['id']}/remove",
            json={"reason": "moved_out", "note": "Works in Thailand"},
            headers={"If-Match": '"1"'},
        )
        again = await client.post(
            f"{url}/members/{spouse['id']}/remove",
            json={"reason": "moved_out"},
            headers={"If-Match": removed.headers["etag"]},
        )
        head = await client.post(
            f"{url}/members/{created['members'][0]['id']}/remove",
            json={"reason": "deceased"},
            headers={"If-Match": removed.headers["etag"]},
        )
        bad = await client.post(
            f"{url}/members/{spouse['id']}/remove",
            json={"reason": "lost"},
            headers={"If-Match": removed.headers["etag"]},
        )
    assert removed.status_code == 200, removed.text
    gone = next(m for m in removed.json()["members"] if m["id"] == spouse["id"])
    assert (gone["status"], gone["status_reason"]) == ("moved_out", "Works in Thailand")
    assert_problem(again, 409)
    assert_problem(head, 409)
    assert_problem(bad, 422, "#/reason")
    event = (await outbox_rows(app))[-1]
    assert event["type"] == "kh.gov.sp.registry.member.removed.v1"
    assert event["payload"]["reason"] == "moved_out"


async def test_changing_the_head(app):
    created, url = await pending(app)
    head, spouse = created["members"][0], created["members"][1]
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        response = await client.post(
            f"{url}/head", json={"member_id": spouse["id"]}, headers={"If-Match": '"1"'}
        )
        stranger = await client.post(
            f"{url}/head", json={"member_id": str(uuid.uuid4())}, headers={"If-Match": '"2"'}
        )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["head_member_id"] == spouse["id"]
    roles = {m["id"]: m["relationship"] for m in body["members"]}
    assert roles[spouse["id"]] == "head" and roles[head["id"]] == "spouse"
    assert_problem(stranger, 422, "#/member_id")
    types = [r["type"].split(".")[-2:] for r in await outbox_rows(app)][-3:]
    assert types == [["updated", "v1"]] * 3


async def test_the_commune_corrects_the_address_and_the_village_within_the_commune(app):
    _created, url = await pending(app)
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        response = await client.patch(
            url,
            json={"address": "House 14", "village_code": OTHER_VILLAGE_SAME_COMMUNE},
            headers={"If-Match": '"1"'},
        )
        other_commune = await client.patch(
            url, json={"village_code": "12080204"}, headers={"If-Match": response.headers["etag"]}
        )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["address"], body["village_code"]) == ("House 14", OTHER_VILLAGE_SAME_COMMUNE)
    assert {m["village_code"] for m in body["members"]} == {OTHER_VILLAGE_SAME_COMMUNE}
    assert "move" in assert_problem(other_commune, 422, "#/village_code")["errors"][0]["reason"]
    types = [r["type"] for r in await outbox_rows(app)][-2:]
    assert types == [
        "kh.gov.sp.registry.household.updated.v1",
        "kh.gov.sp.registry.household.moved.v1",
    ]


async def test_direct_edits_of_an_active_household_need_a_change_request(app):
    household, url = await verified(app)
    member = household["members"][1]["id"]
    etag = {"If-Match": f'"{household["version"]}"'}
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        responses = [
            await client.patch(url, json={"address": "x"}, headers=etag),
            await client.post(f"{url}/members", json=newborn(), headers=etag),
            await client.patch(f"{url}/members/{member}", json={"sex": "male"}, headers=etag),
            await client.post(
                f"{url}/members/{member}/remove", json={"reason": "error"}, headers=etag
            ),
            await client.post(f"{url}/head", json={"member_id": member}, headers=etag),
            await client.put(f"{url}/poverty-status", json={"level": "UNASSESSED"}, headers=etag),
        ]
    for response in responses:
        problem = assert_problem(response, 409)
        assert problem["type"].endswith("change-request-required")
        assert "change request" in problem["detail"]


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
async def test_only_the_communes_officer_edits_directly(app, name, principal, status):
    created, url = await pending(app)
    member = created["members"][1]["id"]
    etag = {"If-Match": '"1"'}
    async with as_(app, principal) as client:
        responses = {
            "patch": await client.patch(url, json={"address": "House 9"}, headers=etag),
            "add": await client.post(f"{url}/members", json=newborn(), headers=etag),
            "update": await client.patch(
                f"{url}/members/{member}", json={"given_name_latin": "Visal"}, headers=etag
            ),
            "head": await client.post(f"{url}/head", json={"member_id": member}, headers=etag),
            "remove": await client.post(
                f"{url}/members/{member}/remove", json={"reason": "error"}, headers=etag
            ),
        }
    for what, response in responses.items():
        if status == 200:
            # Each edit moves the version on, so only the first passes If-Match "1".
            expected = 200 if what == "patch" else 412
            assert response.status_code == expected, (what, response.text)
        else:
            assert response.status_code == status, (what, response.text)
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        after = (await client.get(url)).json()
    assert after["version"] == (2 if status == 200 else 1)


async def test_edits_need_if_match(app):
    _created, url = await pending(app)
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        missing = await client.patch(url, json={"address": "House 9"})
        stale = await client.patch(url, json={"address": "House 9"}, headers={"If-Match": '"9"'})
    assert_problem(missing, 428)
    assert_problem(stale, 412)


async def test_a_member_of_another_household_is_not_found_here(app):
    _first, url = await pending(app)
    second, _ = await pending(app)
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        response = await client.patch(
            f"{url}/members/{second['members'][1]['id']}",
            json={"given_name_latin": "Visal"},
            headers={"If-Match": '"1"'},
        )
    assert_problem(response, 404)


@pytest.mark.parametrize("edit", ["address", "member", "add", "mixed"])
async def test_concurrent_edits_with_one_if_match_exactly_one_wins(app, edit):
    created, url = await pending(app)
    spouse = created["members"][1]["id"]
    etag = {"If-Match": '"1"'}

    async def attempt(client, i):
        kind = edit if edit != "mixed" else ("address", "member", "add")[i % 3]
        if kind == "address":
            return await client.patch(url, json={"address": f"House {i}"}, headers=etag)
        if kind == "member":
            return await client.patch(
                f"{url}/members/{spouse}", json={"given_name_latin": f"Name{'x' * i}"}, headers=etag
            )
        return await client.post(f"{url}/members", json=newborn(), headers=etag)

    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        results = await asyncio.gather(*[attempt(client, i) for i in range(4)])
        final = (await client.get(url)).json()
    statuses = sorted(r.status_code for r in results)
    assert statuses[0] in (200, 201) and statuses[1:] == [412, 412, 412], statuses
    assert final["version"] == 2
    winner = next(r for r in results if r.status_code in (200, 201)).json()
    assert final == winner


async def test_read_a_member_with_its_etag(app, infrastructure):
    created, _url = await pending(app)
    head = created["members"][0]
    async with as_(app, DMK_SEN_SOK) as client:
        response = await client.get(f"/members/{head['id']}")
    assert response.status_code == 200
    assert response.headers["etag"] == '"1"'
    assert response.json() == head


# --- the change functions, as an approved change request calls them ---------------------------


async def _load(app, session, household_id) -> Household:
    return await session.get(Household, uuid.UUID(household_id))


async def test_change_functions_apply_to_an_active_household(app):
    household, _url = await verified(app)
    async with app.state.database.transaction() as session:
        row = await _load(app, session, household["id"])
        await service.update_household(
            session,
            principal=DMK_SEN_SOK,
            household=row,
            changes=HouseholdUpdate(address="House 99"),
        )
        baby = await service.add_member(
            session,
            principal=DMK_SEN_SOK,
            household=row,
            data=MemberCreate.model_validate(newborn()),
        )
        await service.update_member(
            session,
            principal=DMK_SEN_SOK,
            household=row,
            member=baby,
            changes=MemberUpdate(given_name_latin="Srey"),
        )
        await service.move_household(
            session, principal=DMK_SEN_SOK, household=row, to_village_code="12080204"
        )
        assert row.status == "active" and row.version == household["version"] + 4
    async with app.state.database.transaction() as session:
        members = (
            (await session.execute(select(Member).where(Member.household_id == row.id)))
            .scalars()
            .all()
        )
        history = (
            (
                await session.execute(
                    select(RecordChange.action).where(RecordChange.household_id == row.id)
                )
            )
            .scalars()
            .all()
        )
    assert {m.village_code for m in members} == {"12080204"}
    assert history[-4:] == ["updated", "added", "updated", "moved"]
    rows = await outbox_rows(app)
    moved = rows[-1]
    assert moved["type"] == "kh.gov.sp.registry.household.moved.v1"
    assert moved["payload"]["from_village_code"] == VILLAGE_PHNOM_PENH_THMEI
    assert moved["jurisdiction"] == "12080204"


async def test_change_functions_refuse_outside_the_principals_area(app):
    household, _url = await verified(app)
    async with app.state.database.transaction() as session:
        row = await _load(app, session, household["id"])
        with pytest.raises(Problem) as refused:
            await service.update_household(
                session,
                principal=CS_TUEK_THLA,
                household=row,
                changes=HouseholdUpdate(address="House 99"),
            )
        with pytest.raises(Problem) as unknown_village:
            await service.move_household(
                session, principal=DMK_SEN_SOK, household=row, to_village_code="12089999"
            )
    assert refused.value.status == 403
    assert unknown_village.value.errors[0].field == "to_village_code"


async def test_dissolving_a_merged_duplicate(app):
    survivor, _ = await verified(app)
    duplicate, _ = await verified(app)
    async with app.state.database.transaction() as session:
        row = await _load(app, session, duplicate["id"])
        await workflows.dissolve_household(
            session,
            principal=DMK_SEN_SOK,
            household=row,
            reason="duplicate of " + survivor["code"],
            merged_into=uuid.UUID(survivor["id"]),
        )
    async with app.state.database.transaction() as session:
        row = await _load(app, session, duplicate["id"])
        assert row.status == "dissolved"
        with pytest.raises(Problem) as closed:
            await service.update_household(
                session, principal=DMK_SEN_SOK, household=row, changes=HouseholdUpdate(address="x")
            )
    assert closed.value.status == 409
    event = (await outbox_rows(app))[-1]
    assert event["type"] == "kh.gov.sp.registry.household.dissolved.v1"
    assert event["payload"]["merged_into_household_id"] == survivor["id"]
