"""Enrolments: proposed by the commune (checked against the programme's rules at once),
approved, suspended, resumed and exited by the district or above; one live enrolment per
programme and household-or-member; every change in history and on `sp.registry.enrolment`."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import date

import pytest
from sqlalchemy import func, select, text

from services.registry import workflows
from services.registry.audit.models import RecordChange
from services.registry.enrolments import repository as enrolment_repository
from services.registry.enrolments import service as enrolment_service
from services.registry.enrolments.models import Enrolment
from services.registry.households.models import Household
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
    VILLAGE_PHNOM_PENH_THMEI,
    VILLAGE_TUEK_THLA,
    RegistryRows,
    make_household,
    member,
)
from tests.registry.programme_support import (
    CP_BANTEAY_MEANCHEY_VERIFIER,
    NATIONAL_VERIFIER,
    ON_THE_DAY,
    assert_problem,
    family_household,
    on_app_clock,
    outbox_count,
    relaying_registry_app,
)

# Their households, enrolments and benefits describe 21 November 2026: so does the clock.
pytestmark = ON_THE_DAY

ENROLMENT = "kh.gov.sp.registry.enrolment"


async def enrolment_rows(app) -> int:
    async with app.state.database.transaction() as session:
        return (await session.execute(select(func.count()).select_from(Enrolment))).scalar_one()


async def propose(app, household, programme="FAMILY_PACKAGE", principal=CS_PHNOM_PENH_THMEI, **kw):
    async with as_(app, principal) as client:
        return await client.post(
            "/enrolments",
            json={"household_id": str(household.id), "programme_code": programme, **kw},
        )


async def enrolled(app, household, programme="FAMILY_PACKAGE", **kw) -> dict:
    proposed = await propose(app, household, programme, **kw)
    assert proposed.status_code == 201, proposed.text
    assert proposed.json()["status"] == "proposed", proposed.json()
    async with as_(app, DMK_SEN_SOK) as client:
        approved = await client.post(
            f"/enrolments/{proposed.json()['id']}/approve", headers={"If-Match": '"1"'}
        )
    assert approved.status_code == 200, approved.text
    return approved.json()


# -- proposing -------------------------------------------------------------------------------


async def test_an_eligible_household_is_proposed_with_a_snapshot_history_and_event(
    app, infrastructure
):
    household = await family_household(infrastructure)
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        response = await client.post(
            "/enrolments",
            json={"household_id": str(household.id), "programme_code": "FAMILY_PACKAGE"},
            headers={"Idempotency-Key": "enrol-1"},
        )
        replay = await client.post(
            "/enrolments",
            json={"household_id": str(household.id), "programme_code": "FAMILY_PACKAGE"},
            headers={"Idempotency-Key": "enrol-1"},
        )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "proposed"
    assert body["household_code"] == household.code
    assert body["village_code"] == VILLAGE_PHNOM_PENH_THMEI
    assert body["programme_name"] == "Family Package"
    assert body["failing_rules"] == [] and body["member_id"] is None
    assert response.headers["etag"] == '"1"'
    assert response.headers["location"] == f"/enrolments/{body['id']}"
    assert replay.json()["id"] == body["id"]
    snapshot = body["eligibility"]
    assert snapshot["eligible"] is True
    assert snapshot["programme"]["code"] == "FAMILY_PACKAGE"
    assert snapshot["household"]["poverty_level"] == "POOR_1"
    assert len(snapshot["members"]) == 2
    vulnerable = snapshot["outcome"]["rules"][1]
    assert vulnerable["id"] == "vulnerable_member" and vulnerable["passed"] is True
    assert await enrolment_rows(app) == 1
    assert await outbox_count(app, f"{ENROLMENT}.proposed.v1") == 1
    async with app.state.database.transaction() as session:
        history = (
            await session.execute(
                select(RecordChange).where(RecordChange.entity_id == uuid.UUID(body["id"]))
            )
        ).scalar_one()
    assert history.action == "proposed" and history.household_id == household.id
    assert history.actor_sub == CS_PHNOM_PENH_THMEI.sub


async def test_an_ineligible_household_is_rejected_at_once_with_the_failing_rule(
    app, infrastructure
):
    household = await family_household(infrastructure, poverty_level="NOT_POOR")
    response = await propose(app, household)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "rejected"
    assert len(body["failing_rules"]) == 1
    assert body["failing_rules"][0].startswith("idpoor_poor: IDPoor level is NOT_POOR")
    assert body["eligibility"]["eligible"] is False
    assert body["decided_by"] == "eligibility rules"
    assert await outbox_count(app, f"{ENROLMENT}.rejected.v1") == 1
    # A rejected proposal is not live: once poor, the household can be proposed again.
    async with RegistryRows(infrastructure.database_url("registry")) as session:
        await session.execute(
            text("UPDATE household SET poverty_level = 'POOR_2' WHERE id = :id"),
            {"id": household.id},
        )
    assert (await propose(app, household)).json()["status"] == "proposed"


@pytest.mark.parametrize("status", ["pending_verification", "returned", "moved", "dissolved"])
async def test_only_active_households_can_be_enrolled(app, infrastructure, status):
    household = await family_household(infrastructure, status=status)
    body = assert_problem(await propose(app, household), 409)
    assert "only active (verified) households" in body["detail"]
    assert await enrolment_rows(app) == 0
    assert await outbox_count(app) == 0


async def test_one_live_enrolment_per_programme_and_household(app, infrastructure):
    household = await family_household(infrastructure)
    first = await propose(app, household)
    second = await propose(app, household)
    body = assert_problem(second, 409)
    assert body["existing_enrolment_id"] == first.json()["id"]
    other_programme = await propose(app, household, "FOOD_AID")
    assert other_programme.json()["status"] == "proposed"
    assert await enrolment_rows(app) == 2


async def test_concurrent_proposals_create_one_live_enrolment(app, infrastructure):
    household = await family_household(infrastructure)
    responses = await asyncio.gather(*[propose(app, household) for _ in range(4)])
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409]
    assert await enrolment_rows(app) == 1


async def test_an_individual_programme_enrols_one_member(app, infrastructure):
    async with RegistryRows(infrastructure.database_url("registry")) as session:
        household = await make_household(
            session,
            poverty_level="POOR_2",
            members=[
                member(),
                member(
                    relationship="child",
                    given_name_latin="Vanna",
                    birth_date=date(2016, 2, 1),
                    school_enrolment="primary",
                ),
                member(
                    relationship="child",
                    given_name_latin="Mony",
                    birth_date=date(2023, 2, 1),
                ),
            ],
        )
        ids = {
            name: mid
            for mid, name in (
                await session.execute(
                    text("SELECT id, given_name_latin FROM member WHERE household_id = :h"),
                    {"h": household.id},
                )
            ).all()
        }
    pupil = await propose(app, household, "PRIMARY_SCHOLARSHIP", member_id=str(ids["Vanna"]))
    toddler = await propose(app, household, "PRIMARY_SCHOLARSHIP", member_id=str(ids["Mony"]))
    again = await propose(app, household, "PRIMARY_SCHOLARSHIP", member_id=str(ids["Vanna"]))
    assert pupil.json()["status"] == "proposed"
    assert pupil.json()["member_id"] == str(ids["Vanna"])
    assert toddler.json()["status"] == "rejected"
    assert {r.split(":")[0] for r in toddler.json()["failing_rules"]} == {
        "aged_6_to_14",
        "in_primary_school",
    }
    assert_problem(again, 409)


@pytest.mark.parametrize(
    ("body", "field", "status"),
    [
        ({"programme_code": "PRIMARY_SCHOLARSHIP"}, "member_id", 422),
        ({"member_id": str(uuid.uuid4())}, "member_id", 422),
        ({"programme_code": "NO_SUCH_PROGRAMME"}, "programme_code", 422),
        ({"programme_code": "family package"}, "programme_code", 422),
        ({"household_id": str(uuid.uuid4())}, "household_id", 422),
        ({"household_id": "HH00000001"}, "household_id", 422),
        ({"programme_code": None}, "programme_code", 422),
        ({"extra": 1}, "extra", 422),
    ],
)
async def test_bad_proposals_name_the_field_and_write_nothing(
    app, infrastructure, body, field, status
):
    household = await family_household(infrastructure)
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        response = await client.post(
            "/enrolments",
            json={"household_id": str(household.id), "programme_code": "FAMILY_PACKAGE", **body},
        )
    assert_problem(response, status, field)
    assert await enrolment_rows(app) == 0
    assert await outbox_count(app) == 0


async def test_a_member_of_another_household_cannot_be_proposed(app, infrastructure):
    household = await family_household(infrastructure)
    other = await family_household(infrastructure)
    async with RegistryRows(infrastructure.database_url("registry")) as session:
        stranger = (
            await session.execute(
                text("SELECT id FROM member WHERE household_id = :h LIMIT 1"), {"h": other.id}
            )
        ).scalar_one()
    response = await propose(app, household, "DISABILITY_ALLOWANCE", member_id=str(stranger))
    assert_problem(response, 422, "member_id")


async def test_a_malformed_body_is_a_400(app):
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        response = await client.post(
            "/enrolments",
            content=b'{"household_id": ',
            headers={"content-type": "application/json"},
        )
    assert_problem(response, 400)


@pytest.mark.parametrize(
    ("principal", "status"),
    [
        (CS_PHNOM_PENH_THMEI, 201),  # own commune
        (CS_TUEK_THLA, 403),  # sibling commune
        (DMK_SEN_SOK, 201),  # the district's verifier (as when it applies a change request)
        (CP_BANTEAY_MEANCHEY_VERIFIER, 403),  # another province
        (NATIONAL, 403),  # a national viewer holds no registry role
        (NATIONAL_VERIFIER, 201),
    ],
)
async def test_proposing_jurisdiction(app, infrastructure, principal, status):
    household = await family_household(infrastructure)
    response = await propose(app, household, principal=principal)
    assert response.status_code == status, response.text
    assert await enrolment_rows(app) == (1 if status == 201 else 0)


# -- deciding --------------------------------------------------------------------------------


async def test_the_district_approves_a_proposal(app, infrastructure):
    household = await family_household(infrastructure)
    proposed = (await propose(app, household)).json()
    url = f"/enrolments/{proposed['id']}"
    async with as_(app, DMK_SEN_SOK) as client:
        missing = await client.post(f"{url}/approve")
        stale = await client.post(f"{url}/approve", headers={"If-Match": '"7"'})
        approved = await client.post(f"{url}/approve", headers={"If-Match": '"1"'})
        twice = await client.post(f"{url}/approve", headers={"If-Match": '"2"'})
    assert_problem(missing, 428)
    assert_problem(stale, 412)
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert body["status"] == "enrolled" and body["version"] == 2
    assert body["decided_by"] == DMK_SEN_SOK.sub
    assert body["enrolled_on"] == str(app.state.clock.today())
    assert approved.headers["etag"] == '"2"'
    assert "invalid" in assert_problem(twice, 409)["type"]
    assert await outbox_count(app, f"{ENROLMENT}.enrolled.v1") == 1


@pytest.mark.parametrize(
    ("principal", "status"),
    [
        (CS_PHNOM_PENH_THMEI, 403),  # sees it, but the commune does not decide
        (CS_TUEK_THLA, 404),
        (DMK_SEN_SOK, 200),
        (CP_BANTEAY_MEANCHEY_VERIFIER, 404),
        (CP_BANTEAY_MEANCHEY, 404),
        (NATIONAL, 403),  # a viewer
        (NATIONAL_VERIFIER, 200),
    ],
)
async def test_approving_jurisdiction(app, infrastructure, principal, status):
    household = await family_household(infrastructure)
    proposed = (await propose(app, household)).json()
    async with as_(app, principal) as client:
        response = await client.post(
            f"/enrolments/{proposed['id']}/approve", headers={"If-Match": '"1"'}
        )
    assert response.status_code == status, response.text


async def test_approval_checks_the_rules_again(app, infrastructure):
    household = await family_household(infrastructure)
    proposed = (await propose(app, household)).json()
    async with RegistryRows(infrastructure.database_url("registry")) as session:
        await session.execute(
            text("UPDATE household SET poverty_valid_until = '2025-01-01' WHERE id = :id"),
            {"id": household.id},
        )
    async with as_(app, DMK_SEN_SOK) as client:
        response = await client.post(
            f"/enrolments/{proposed['id']}/approve", headers={"If-Match": '"1"'}
        )
        after = await client.get(f"/enrolments/{proposed['id']}")
    body = assert_problem(response, 409)
    assert body["failing_rules"][0].startswith("idpoor_poor: IDPoor status POOR_1 expired")
    assert after.json()["status"] == "proposed"


async def test_the_life_cycle_and_its_invalid_transitions(app, infrastructure):
    household = await family_household(infrastructure)
    enrolment = await enrolled(app, household)
    url = f"/enrolments/{enrolment['id']}"
    reason = {"reason": "Household not found at two visits"}
    async with as_(app, DMK_SEN_SOK) as client:
        resume_enrolled = await client.post(f"{url}/resume", headers={"If-Match": '"2"'})
        no_reason = await client.post(f"{url}/suspend", json={}, headers={"If-Match": '"2"'})
        suspended = await client.post(f"{url}/suspend", json=reason, headers={"If-Match": '"2"'})
        resumed = await client.post(f"{url}/resume", headers={"If-Match": '"3"'})
        exited = await client.post(
            f"{url}/exit", json={"reason": "Moved abroad"}, headers={"If-Match": '"4"'}
        )
        exit_again = await client.post(
            f"{url}/exit", json={"reason": "Moved abroad"}, headers={"If-Match": '"5"'}
        )
        reject_exited = await client.post(
            f"{url}/reject", json={"reason": "Not poor"}, headers={"If-Match": '"5"'}
        )
    assert_problem(resume_enrolled, 409)
    assert_problem(no_reason, 422, "reason")
    assert suspended.json()["status"] == "suspended"
    assert suspended.json()["status_reason"] == reason["reason"]
    assert resumed.json()["status"] == "enrolled"
    assert exited.json()["status"] == "exited"
    assert exited.json()["exited_on"] == str(app.state.clock.today())
    assert_problem(exit_again, 409)
    assert_problem(reject_exited, 409)
    # Exited is not live: the household may be proposed again.
    assert (await propose(app, household)).json()["status"] == "proposed"
    async with app.state.database.transaction() as session:
        actions = (
            (
                await session.execute(
                    select(RecordChange.action)
                    .where(RecordChange.entity_id == uuid.UUID(enrolment["id"]))
                    .order_by(RecordChange.id)
                )
            )
            .scalars()
            .all()
        )
    assert actions == ["proposed", "approved", "suspended", "resumed", "exited"]


async def test_a_verifier_rejects_a_proposal_with_a_reason(app, infrastructure):
    household = await family_household(infrastructure)
    proposed = (await propose(app, household)).json()
    async with as_(app, DMK_SEN_SOK) as client:
        rejected = await client.post(
            f"/enrolments/{proposed['id']}/reject",
            json={"reason": "Already covered by an NGO programme"},
            headers={"If-Match": '"1"'},
        )
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["status_reason"] == "Already covered by an NGO programme"
    assert await outbox_count(app, f"{ENROLMENT}.rejected.v1") == 1


async def test_the_change_request_engine_can_propose_approve_and_exit(app, infrastructure):
    """The service functions R3's "enrol" and "exit" change types call, in one session."""
    household = await family_household(infrastructure)
    # Called directly, outside a request: on the app's clock, as a request would be.
    async with on_app_clock(app) as session:
        enrolment = await enrolment_service.propose_enrolment(
            session,
            principal=DMK_SEN_SOK,
            household_id=household.id,
            programme_code="FOOD_AID",
        )
        await enrolment_service.approve_enrolment(
            session, principal=DMK_SEN_SOK, enrolment_id=enrolment.id
        )
        exited = await enrolment_service.exit_enrolment(
            session,
            principal=DMK_SEN_SOK,
            enrolment_id=enrolment.id,
            reason="change request: household left",
            expected_version=2,
        )
    assert exited.status == "exited" and exited.version == 3
    assert await outbox_count(app) == 3


async def test_a_dissolved_household_leaves_its_programmes(app, infrastructure):
    """Dissolving a household (or merging it away as a duplicate) ends every live enrolment
    in the same transaction: enrolled ones are exited, proposed ones rejected, each with the
    reason in history and its event, so no benefit is recorded for a household that is gone."""
    household = await family_household(infrastructure)
    family = await enrolled(app, household)
    food = (await propose(app, household, "FOOD_AID")).json()
    assert food["status"] == "proposed"
    async with on_app_clock(app) as session:
        row = await session.get(Household, household.id)
        await workflows.dissolve_household(
            session, principal=DMK_SEN_SOK, household=row, reason="Family left the village"
        )
    async with as_(app, DMK_SEN_SOK) as client:
        family_now = (await client.get(f"/enrolments/{family['id']}")).json()
        food_now = (await client.get(f"/enrolments/{food['id']}")).json()
    assert (family_now["status"], family_now["exited_on"]) == (
        "exited",
        str(app.state.clock.today()),
    )
    assert food_now["status"] == "rejected"
    for ended in (family_now, food_now):
        assert ended["status_reason"] == "household dissolved: Family left the village"
    assert await outbox_count(app, f"{ENROLMENT}.exited.v1") == 1
    assert await outbox_count(app, f"{ENROLMENT}.rejected.v1") == 1
    # Nothing live is left to pay.
    async with app.state.database.transaction() as session:
        assert await enrolment_repository.live_enrolments_of(session, household.id) == []


# -- reading ---------------------------------------------------------------------------------


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
async def test_reading_enrolments_jurisdiction(app, infrastructure, principal, visible):
    household = await family_household(infrastructure)
    enrolment = await enrolled(app, household)
    async with as_(app, principal) as client:
        one = await client.get(f"/enrolments/{enrolment['id']}")
        listed = await client.get("/enrolments")
        of_household = await client.get(f"/households/{household.id}/enrolments")
    if visible:
        assert one.status_code == 200 and one.headers["etag"] == '"2"'
        assert one.json()["eligibility"]["eligible"] is True
        assert [e["id"] for e in listed.json()["items"]] == [enrolment["id"]]
        assert [e["status"] for e in of_household.json()] == ["enrolled"]
    else:
        assert_problem(one, 404)
        assert listed.json()["items"] == []
        assert_problem(of_household, 404)


async def test_reading_an_enrolment_is_audit_logged(app, infrastructure):
    household = await family_household(infrastructure)
    enrolment = await enrolled(app, household)
    async with as_(app, DMK_SEN_SOK) as client:
        await client.get(f"/enrolments/{enrolment['id']}")
    async with app.state.database.transaction() as session:
        purposes = (
            (
                await session.execute(
                    text("SELECT purpose FROM personal_data_access WHERE actor_sub = 'dmk-1208'")
                )
            )
            .scalars()
            .all()
        )
    assert purposes == ["registry_get_enrolment"]


async def test_the_list_filters_and_pages(app, infrastructure):
    mine = [await family_household(infrastructure) for _ in range(3)]
    sibling = await family_household(infrastructure, village_code=VILLAGE_TUEK_THLA)
    for household in mine:
        await enrolled(app, household)
    await propose(app, mine[0], "FOOD_AID")
    await propose(app, sibling, principal=CS_TUEK_THLA)
    async with as_(app, DMK_SEN_SOK) as client:
        pages, cursor = [], None
        while True:
            params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            page = (await client.get("/enrolments", params=params)).json()
            pages.append(page["items"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        family = await client.get("/enrolments", params={"programme": "FAMILY_PACKAGE"})
        proposed = await client.get("/enrolments", params={"status": "proposed"})
        commune = await client.get("/enrolments", params={"location": "120802"})
        village = await client.get("/enrolments", params={"location": VILLAGE_PHNOM_PENH_THMEI})
        bad_location = await client.get("/enrolments", params={"location": "120899"})
        bad_status = await client.get("/enrolments", params={"status": "paid"})
        bad_cursor = await client.get("/enrolments", params={"cursor": "nonsense"})
    assert [len(p) for p in pages] == [2, 2, 1]
    assert len({e["id"] for p in pages for e in p}) == 5
    assert len(family.json()["items"]) == 4
    assert {e["programme_code"] for e in proposed.json()["items"]} == {
        "FOOD_AID",
        "FAMILY_PACKAGE",
    }
    assert [e["household_id"] for e in commune.json()["items"]] == [str(sibling.id)]
    assert len(village.json()["items"]) == 4
    assert_problem(bad_location, 422, "query.location")
    assert_problem(bad_status, 422, "query.status")
    assert_problem(bad_cursor, 400, "query.cursor")


# -- events on the broker --------------------------------------------------------------------


async def test_enrolment_events_reach_their_topic(infrastructure, clean_databases):
    async with relaying_registry_app(infrastructure) as app:
        household = await family_household(infrastructure)
        enrolment = await enrolled(app, household)
        records = await read_topic(
            infrastructure.bootstrap_servers,
            "sp.registry.enrolment",
            until=lambda rs: sum(e["subject"] == enrolment["id"] for e in envelopes(rs)) >= 2,
        )
    mine = [e for e in envelopes(records) if e["subject"] == enrolment["id"]]
    assert [e["type"] for e in mine] == [
        f"{ENROLMENT}.proposed.v1",
        f"{ENROLMENT}.enrolled.v1",
    ]
    enrolled_event = mine[1]
    assert enrolled_event["jurisdiction"] == VILLAGE_PHNOM_PENH_THMEI
    assert enrolled_event["source"] == "/sp/registry"
    assert enrolled_event["data"] == {
        "enrolment_id": enrolment["id"],
        "programme_code": "FAMILY_PACKAGE",
        "household_id": str(household.id),
        "member_id": None,
        "village_code": VILLAGE_PHNOM_PENH_THMEI,
        "status": "enrolled",
        "record_version": 2,
    }
    json.dumps(enrolled_event)  # the envelope is plain JSON
