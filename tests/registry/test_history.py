"""History per record: who changed what and when, with values before and after; sensitive
values masked for readers who may not see them; reading history is itself logged."""

from __future__ import annotations

from sqlalchemy import select

from services.registry.audit.models import PersonalDataAccess
from tests.harness import (
    CP_BANTEAY_MEANCHEY,
    CP_PHNOM_PENH,
    CS_PHNOM_PENH_THMEI,
    CS_TUEK_THLA,
    DMK_SEN_SOK,
)
from tests.registry.conftest import as_
from tests.registry.test_households import assert_problem, register


async def corrected_and_verified(app) -> dict:
    """Registered, the head's phone corrected, returned, resubmitted and verified."""
    created = await register(app)
    url = f"/households/{created['id']}"
    head = created["members"][0]["id"]
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        fixed = await client.patch(
            f"{url}/members/{head}",
            json={"phone": "0977 777 777", "given_name_latin": "Chanthou"},
            headers={"If-Match": '"1"'},
        )
        assert fixed.status_code == 200, fixed.text
    async with as_(app, DMK_SEN_SOK) as client:
        returned = await client.post(
            f"{url}/return", json={"reasons": ["Address incomplete"]}, headers={"If-Match": '"2"'}
        )
        assert returned.status_code == 200, returned.text
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        patched = await client.patch(
            url,
            json={"address": "House 12, Street 1986, Phnom Penh Thmei"},
            headers={"If-Match": '"3"'},
        )
        assert patched.status_code == 200, patched.text
        resubmitted = await client.post(f"{url}/resubmit", headers={"If-Match": '"4"'})
        assert resubmitted.status_code == 200, resubmitted.text
    async with as_(app, DMK_SEN_SOK) as client:
        verified = await client.post(f"{url}/verify", headers={"If-Match": '"5"'})
        assert verified.status_code == 200, verified.text
    return created


async def test_household_history_tells_who_did_what_and_when(app):
    created = await corrected_and_verified(app)
    async with as_(app, DMK_SEN_SOK) as client:
        history = (await client.get(f"/households/{created['id']}/history")).json()
    entries = [(e["entity"], e["action"], e["actor_sub"]) for e in history["items"]]
    cs, dmk = CS_PHNOM_PENH_THMEI.sub, DMK_SEN_SOK.sub
    assert entries == [
        ("household", "registered", cs),
        ("member", "added", cs),
        ("member", "added", cs),
        ("member", "added", cs),
        ("member", "updated", cs),
        ("household", "returned", dmk),
        ("household", "updated", cs),
        ("household", "resubmitted", cs),
        ("household", "verified", dmk),
    ]
    correction = history["items"][4]
    assert correction["changes"] == {
        "phone": {"from": "+85512345678", "to": "+855977777777"},
        "given_name_latin": {"from": "Chantha", "to": "Chanthou"},
    }
    assert correction["entity_id"] == created["members"][0]["id"]
    assert correction["actor_tier"] == "cs" and correction["actor_admin_code"] == "120801"
    assert correction["request_id"] and correction["at"]
    assert history["items"][5]["changes"]["reasons"] == ["Address incomplete"]
    assert history["items"][7]["changes"]["answered_reasons"] == ["Address incomplete"]
    assert history["items"][8]["changes"] == {
        "status": {"from": "pending_verification", "to": "active"}
    }


async def test_member_history_holds_only_that_member(app):
    created = await corrected_and_verified(app)
    head = created["members"][0]["id"]
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        history = (await client.get(f"/members/{head}/history")).json()
        spouse = (await client.get(f"/members/{created['members'][1]['id']}/history")).json()
    assert [e["action"] for e in history["items"]] == ["added", "updated"]
    assert {e["entity_id"] for e in history["items"]} == {head}
    assert history["items"][0]["changes"]["birth_date"] == "1985-03-14"
    assert [e["action"] for e in spouse["items"]] == ["added"]


async def test_sensitive_values_in_history_are_masked_for_viewers(app):
    created = await corrected_and_verified(app)
    head = created["members"][0]["id"]
    async with as_(app, CP_PHNOM_PENH) as viewer:
        entries = (await viewer.get(f"/members/{head}/history")).json()["items"]
    added, updated = entries
    assert added["changes"]["national_id"] == "*****3040"
    assert updated["changes"]["phone"] == {"from": "+855******78", "to": "+855*******77"}
    assert updated["changes"]["given_name_latin"]["to"] == "Chanthou"
    async with as_(app, CS_PHNOM_PENH_THMEI) as officer:
        entries = (await officer.get(f"/members/{head}/history")).json()["items"]
    assert entries[1]["changes"]["phone"]["to"] == "+855977777777"


async def test_history_pages_with_a_cursor(app):
    created = await corrected_and_verified(app)
    ids, cursor = [], None
    async with as_(app, DMK_SEN_SOK) as client:
        while True:
            params = {"limit": 4, **({"cursor": cursor} if cursor else {})}
            page = (await client.get(f"/households/{created['id']}/history", params=params)).json()
            ids += [e["id"] for e in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
    assert len(ids) == 9 and ids == sorted(ids)


async def test_history_outside_ones_area_is_not_found_and_reading_it_is_logged(app):
    created = await register(app)
    head = created["members"][0]["id"]
    for principal in (CS_TUEK_THLA, CP_BANTEAY_MEANCHEY):
        async with as_(app, principal) as client:
            assert_problem(await client.get(f"/households/{created['id']}/history"), 404)
            assert_problem(await client.get(f"/members/{head}/history"), 404)
    async with as_(app, CP_PHNOM_PENH) as client:
        await client.get(f"/households/{created['id']}/history")
        await client.get(f"/members/{head}/history")
    async with app.state.database.transaction() as session:
        rows = (await session.execute(select(PersonalDataAccess))).scalars().all()
    assert sorted((r.actor_sub, r.entity, r.purpose) for r in rows) == [
        (CP_PHNOM_PENH.sub, "household", "registry_household_history"),
        (CP_PHNOM_PENH.sub, "member", "registry_member_history"),
    ]
    assert {(r.actor_tier, r.actor_admin_code) for r in rows} == {("cp", "12")}
