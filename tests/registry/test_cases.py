"""Cases: opened on a household of the caller's area, assigned to a unit containing it and
optionally to a person, worked open -> in_progress -> closed with a notes timeline; every
change in the household's history and on `sp.registry.case`."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from services.registry.audit.models import RecordChange
from services.registry.cases.models import Case, CaseNote
from services.registry.config import Settings
from services.registry.main import create_app
from shared import clock
from shared.db.platform_tables import outbox
from shared.principal import Principal
from shared.tiers import Tier
from tests.harness import (
    CP_BANTEAY_MEANCHEY,
    CP_PHNOM_PENH,
    CS_PHNOM_PENH_THMEI,
    CS_TUEK_THLA,
    DMK_SEN_SOK,
    envelopes,
    read_topic,
    running,
)
from tests.registry.conftest import as_
from tests.registry.factories import (
    VILLAGE_PHNOM_PENH_THMEI,
    VILLAGE_TUEK_THLA,
    RegistryRows,
    make_household,
    member,
)

# Principals holding a registry role at the tiers the harness has only viewers for.
NATIONAL_VERIFIER = Principal(
    sub="national-verifier",
    tier=Tier.NATIONAL,
    admin_code="",
    roles=frozenset({"registry.verifier"}),
)
CP_BANTEAY_MEANCHEY_VERIFIER = Principal(
    sub="cp-01-verifier", tier=Tier.CP, admin_code="01", roles=frozenset({"registry.verifier"})
)


async def household_in(infrastructure, village_code=VILLAGE_PHNOM_PENH_THMEI, **fields):
    async with RegistryRows(infrastructure.database_url("registry")) as session:
        return await make_household(
            session,
            village_code=village_code,
            members=[member(), member(relationship="child", given_name_latin="Dara")],
            **fields,
        )


async def member_ids(infrastructure, household_id) -> list[uuid.UUID]:
    async with RegistryRows(infrastructure.database_url("registry")) as session:
        rows = await session.execute(
            text("SELECT id FROM member WHERE household_id = :h ORDER BY given_name_latin"),
            {"h": household_id},
        )
        return [r[0] for r in rows]


async def counts(app) -> tuple[int, int, int]:
    async with app.state.database.transaction() as session:
        cases = (await session.execute(select(func.count()).select_from(Case))).scalar_one()
        notes = (await session.execute(select(func.count()).select_from(CaseNote))).scalar_one()
        events = (await session.execute(select(func.count()).select_from(outbox))).scalar_one()
    return cases, notes, events


def assert_problem(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    if field is not None:
        assert field in [e["field"] for e in body["errors"]], body
    return body


async def open_case(app, household, principal=CS_PHNOM_PENH_THMEI, **fields) -> dict:
    async with as_(app, principal) as client:
        response = await client.post(
            "/cases",
            json={"household_id": str(household.id), "case_type": "follow_up", **fields},
        )
    assert response.status_code == 201, response.text
    return response.json()


# -- opening ---------------------------------------------------------------------------------


async def test_a_commune_officer_opens_a_case_assigned_to_the_commune(app, infrastructure):
    household = await household_in(infrastructure)
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        response = await client.post(
            "/cases",
            json={
                "household_id": str(household.id),
                "case_type": "referral",
                "description": "Refer the child to the health centre.",
                "note": "Mother asked for help at the commune office.",
            },
            headers={"Idempotency-Key": "case-1"},
        )
        again = await client.post(
            "/cases",
            json={
                "household_id": str(household.id),
                "case_type": "referral",
                "description": "Refer the child to the health centre.",
                "note": "Mother asked for help at the commune office.",
            },
            headers={"Idempotency-Key": "case-1"},
        )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "open" and body["case_type"] == "referral"
    assert body["assigned_admin_code"] == "120801" and body["assigned_tier"] == "cs"
    assert body["village_code"] == VILLAGE_PHNOM_PENH_THMEI
    assert body["due_on"] == (clock.today() + timedelta(days=30)).isoformat()
    assert body["overdue"] is False and body["origin"] is None
    assert [n["text"] for n in body["notes"]] == ["Mother asked for help at the commune office."]
    assert body["notes"][0]["author_sub"] == CS_PHNOM_PENH_THMEI.sub
    assert response.headers["location"] == f"/cases/{body['id']}"
    assert response.headers["etag"] == '"1"'
    assert again.json()["id"] == body["id"] and again.headers["idempotent-replayed"] == "true"
    assert await counts(app) == (1, 1, 1)


@pytest.mark.parametrize(
    ("principal", "status"),
    [
        (CS_PHNOM_PENH_THMEI, 201),
        (CS_TUEK_THLA, 403),
        (DMK_SEN_SOK, 201),
        (CP_BANTEAY_MEANCHEY_VERIFIER, 403),
        (NATIONAL_VERIFIER, 201),
        (CP_PHNOM_PENH, 403),  # a viewer covers the household but works no cases
    ],
)
async def test_opening_a_case_needs_the_household_in_ones_area(
    app, infrastructure, principal, status
):
    household = await household_in(infrastructure)
    async with as_(app, principal) as client:
        response = await client.post(
            "/cases", json={"household_id": str(household.id), "case_type": "protection"}
        )
    assert response.status_code == status, response.text
    assert (await counts(app))[0] == (1 if status == 201 else 0)
    if status == 201:
        # Whoever opens it, it lands on the household's commune unless told otherwise.
        assert response.json()["assigned_admin_code"] == "120801"


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"case_type": "visit"}, "case_type", "Input should be"),
        ({"household_id": "not-a-uuid"}, "household_id", "UUID"),
        ({"household_id": str(uuid.uuid4())}, "household_id", "no such household"),
        ({"due_on": "2020-01-01"}, "due_on", "must not be in the past"),
        ({"due_on": "2026-02-30"}, "due_on", "date"),
        ({"assigned_admin_code": "1208011"}, "assigned_admin_code", "pattern"),
        ({"assigned_admin_code": "120802"}, "assigned_admin_code", "does not contain"),
        ({"member_id": str(uuid.uuid4())}, "member_id", "not a member of this household"),
        ({"colour": "red"}, "colour", "Extra inputs"),
        ({"note": ""}, "note", "at least 1"),
    ],
)
async def test_bad_input_is_named_and_writes_nothing(app, infrastructure, change, field, reason):
    household = await household_in(infrastructure)
    body = {"household_id": str(household.id), "case_type": "follow_up", **change}
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        response = await client.post("/cases", json=body)
    problem = assert_problem(response, 422, field)
    assert reason in next(e["reason"] for e in problem["errors"] if e["field"] == field)
    assert await counts(app) == (0, 0, 0)


async def test_a_case_about_a_member_must_name_a_member_of_that_household(app, infrastructure):
    household = await household_in(infrastructure)
    other = await household_in(infrastructure)
    theirs = (await member_ids(infrastructure, other.id))[0]
    ours = (await member_ids(infrastructure, household.id))[0]
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        wrong = await client.post(
            "/cases",
            json={
                "household_id": str(household.id),
                "case_type": "protection",
                "member_id": str(theirs),
            },
        )
        right = await client.post(
            "/cases",
            json={
                "household_id": str(household.id),
                "case_type": "protection",
                "member_id": str(ours),
            },
        )
    assert_problem(wrong, 422, "member_id")
    assert right.status_code == 201 and right.json()["member_id"] == str(ours)


# -- reading ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("principal", "visible"),
    [
        (CS_PHNOM_PENH_THMEI, True),
        (CS_TUEK_THLA, False),
        (DMK_SEN_SOK, True),
        (CP_BANTEAY_MEANCHEY, False),
        (NATIONAL_VERIFIER, True),
    ],
)
async def test_a_case_is_read_only_inside_ones_area(app, infrastructure, principal, visible):
    household = await household_in(infrastructure)
    case = await open_case(app, household, note="first visit planned")
    async with as_(app, principal) as client:
        one = await client.get(f"/cases/{case['id']}")
        listing = await client.get("/cases")
    if visible:
        assert one.status_code == 200
        assert one.headers["etag"] == '"1"'
        assert [n["text"] for n in one.json()["notes"]] == ["first visit planned"]
        assert [c["id"] for c in listing.json()["items"]] == [case["id"]]
    else:
        assert_problem(one, 404)
        assert listing.json()["items"] == []


async def test_the_worklist_filters_and_pages_most_urgent_first(app, infrastructure):
    household = await household_in(infrastructure)
    sibling = await household_in(infrastructure, VILLAGE_TUEK_THLA)
    soon = await open_case(app, household, due_on=(clock.today() + timedelta(days=2)).isoformat())
    later = await open_case(
        app,
        household,
        case_type="reassessment",
        due_on=(clock.today() + timedelta(days=20)).isoformat(),
    )
    at_district = await open_case(
        app,
        household,
        principal=DMK_SEN_SOK,
        assigned_admin_code="1208",
        due_on=(clock.today() + timedelta(days=10)).isoformat(),
    )
    theirs = await open_case(app, sibling, principal=CS_TUEK_THLA)
    # A case that fell behind: its due date passed while it was open.
    async with app.state.database.transaction() as session:
        await session.execute(
            text("UPDATE case_file SET due_on = :d WHERE id = :id"),
            {"d": clock.today() - timedelta(days=3), "id": uuid.UUID(later["id"])},
        )

    async def ids(principal, **params):
        async with as_(app, principal) as client:
            response = await client.get("/cases", params=params)
        assert response.status_code == 200, response.text
        return [c["id"] for c in response.json()["items"]]

    assert await ids(DMK_SEN_SOK) == [later["id"], soon["id"], at_district["id"], theirs["id"]]
    assert await ids(DMK_SEN_SOK, assigned_admin_code="1208") == [at_district["id"]]
    assert await ids(DMK_SEN_SOK, assigned_admin_code="120801") == [later["id"], soon["id"]]
    assert await ids(CS_PHNOM_PENH_THMEI, overdue="true") == [later["id"]]
    assert await ids(CS_PHNOM_PENH_THMEI, case_type="reassessment") == [later["id"]]
    due_before = (clock.today() + timedelta(days=5)).isoformat()
    assert await ids(CS_PHNOM_PENH_THMEI, due_before=due_before) == [later["id"], soon["id"]]
    assert await ids(CS_PHNOM_PENH_THMEI, status="closed") == []

    async with as_(app, DMK_SEN_SOK) as client:
        first = (await client.get("/cases", params={"limit": 2})).json()
        second = (
            await client.get("/cases", params={"limit": 2, "cursor": first["next_cursor"]})
        ).json()
        bad = await client.get("/cases", params={"status": "pending"})
        bad_cursor = await client.get("/cases", params={"cursor": "nonsense"})
    assert [c["id"] for c in first["items"] + second["items"]] == [
        later["id"],
        soon["id"],
        at_district["id"],
        theirs["id"],
    ]
    assert second["next_cursor"] is None
    assert first["items"][0]["overdue"] is True
    assert_problem(bad, 422, "query.status.0")
    assert_problem(bad_cursor, 400, "query.cursor")


# -- assigning, working, closing -------------------------------------------------------------


async def test_a_district_takes_a_case_up_and_hands_it_to_a_person(app, infrastructure):
    household = await household_in(infrastructure)
    case = await open_case(app, household)
    url = f"/cases/{case['id']}"
    async with as_(app, DMK_SEN_SOK) as client:
        to_district = await client.post(
            f"{url}/assign", json={"assigned_admin_code": "1208"}, headers={"If-Match": '"1"'}
        )
        to_person = await client.post(
            f"{url}/assign",
            json={
                "assignee_sub": "demo:dmk.social-worker",
                "assignee_name": "Social worker",
                "due_on": (clock.today() + timedelta(days=7)).isoformat(),
            },
            headers={"If-Match": '"2"'},
        )
    assert to_district.status_code == 200, to_district.text
    assert to_district.json()["assigned_tier"] == "dmk"
    assert to_district.headers["etag"] == '"2"'
    body = to_person.json()
    assert body["assigned_admin_code"] == "1208"
    assert body["assignee_sub"] == "demo:dmk.social-worker"
    assert body["due_on"] == (clock.today() + timedelta(days=7)).isoformat()
    assert body["version"] == 3


@pytest.mark.parametrize(
    ("principal", "unit", "status", "field"),
    [
        (CS_PHNOM_PENH_THMEI, "120801", 200, None),
        (CS_PHNOM_PENH_THMEI, "1208", 403, None),  # above the commune's own area
        (CS_TUEK_THLA, "120802", 403, None),  # not its household
        (DMK_SEN_SOK, "120801", 200, None),
        (DMK_SEN_SOK, "120802", 422, "assigned_admin_code"),  # not the household's commune
        (CP_BANTEAY_MEANCHEY_VERIFIER, "01", 403, None),
        (NATIONAL_VERIFIER, "", 200, None),
    ],
)
async def test_assignment_stays_inside_the_callers_area_and_contains_the_household(
    app, infrastructure, principal, unit, status, field
):
    household = await household_in(infrastructure)
    case = await open_case(app, household)
    async with as_(app, principal) as client:
        response = await client.post(
            f"/cases/{case['id']}/assign",
            json={"assigned_admin_code": unit},
            headers={"If-Match": '"1"'},
        )
    assert response.status_code == status, response.text
    if status == 200:
        assert response.json()["assigned_admin_code"] == unit
    else:
        assert_problem(response, status, field)
        async with app.state.database.transaction() as session:
            stored = await session.get(Case, uuid.UUID(case["id"]))
        assert stored.assigned_admin_code == "120801" and stored.version == 1


async def test_a_case_is_started_noted_and_closed_and_then_takes_no_more(app, infrastructure):
    household = await household_in(infrastructure)
    case = await open_case(app, household)
    url = f"/cases/{case['id']}"
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        started = await client.post(f"{url}/start", headers={"If-Match": '"1"'})
        started_again = await client.post(f"{url}/start", headers={"If-Match": '"2"'})
        note = await client.post(f"{url}/notes", json={"text": "Visited; the roof leaks."})
        closed = await client.post(
            f"{url}/close",
            json={"outcome": "Referred to the commune fund."},
            headers={"If-Match": '"2"'},
        )
        closed_again = await client.post(
            f"{url}/close", json={"outcome": "again"}, headers={"If-Match": '"3"'}
        )
        late_note = await client.post(f"{url}/notes", json={"text": "too late"})
        late_assign = await client.post(
            f"{url}/assign", json={"assigned_admin_code": "120801"}, headers={"If-Match": '"3"'}
        )
        final = (await client.get(url)).json()
    assert started.status_code == 200 and started.json()["status"] == "in_progress"
    assert started.json()["assignee_sub"] == CS_PHNOM_PENH_THMEI.sub  # picked it up
    assert "Only an open case" in assert_problem(started_again, 409)["detail"]
    assert note.status_code == 201 and note.json()["author_sub"] == CS_PHNOM_PENH_THMEI.sub
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed" and closed.json()["overdue"] is False
    assert_problem(closed_again, 409)
    assert_problem(late_note, 409)
    assert_problem(late_assign, 409)
    assert final["outcome"] == "Referred to the commune fund."
    assert final["closed_by"] == CS_PHNOM_PENH_THMEI.sub
    assert [n["text"] for n in final["notes"]] == ["Visited; the roof leaks."]

    async with app.state.database.transaction() as session:
        history = (
            await session.execute(
                select(RecordChange.action, RecordChange.household_id)
                .where(RecordChange.entity_id == uuid.UUID(case["id"]))
                .order_by(RecordChange.id)
            )
        ).all()
    assert [h.action for h in history] == ["opened", "started", "note_added", "closed"]
    assert {h.household_id for h in history} == {household.id}


async def test_updates_need_the_current_version(app, infrastructure):
    household = await household_in(infrastructure)
    case = await open_case(app, household)
    url = f"/cases/{case['id']}"
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        missing = await client.post(f"{url}/start")
        await client.post(
            f"{url}/assign", json={"assignee_sub": "someone"}, headers={"If-Match": '"1"'}
        )
        stale = await client.post(
            f"{url}/close", json={"outcome": "x"}, headers={"If-Match": '"1"'}
        )
        empty = await client.post(f"{url}/close", json={"outcome": ""}, headers={"If-Match": '"2"'})
        nothing = await client.post(f"{url}/assign", json={}, headers={"If-Match": '"2"'})
        final = (await client.get(url)).json()
    assert_problem(missing, 428, "header.If-Match")
    assert_problem(stale, 412)
    assert_problem(empty, 422, "outcome")
    assert_problem(nothing, 422, "assigned_admin_code")
    assert final["status"] == "open" and final["version"] == 2


@pytest.mark.parametrize(
    ("principal", "status"),
    [
        (CS_PHNOM_PENH_THMEI, 200),
        (CS_TUEK_THLA, 403),
        (DMK_SEN_SOK, 200),
        (CP_BANTEAY_MEANCHEY_VERIFIER, 403),
        (NATIONAL_VERIFIER, 200),
    ],
)
async def test_working_a_case_needs_it_in_ones_area(app, infrastructure, principal, status):
    household = await household_in(infrastructure)
    case = await open_case(app, household)
    url = f"/cases/{case['id']}"
    async with as_(app, principal) as client:
        note = await client.post(f"{url}/notes", json={"text": "seen"})
        start = await client.post(f"{url}/start", headers={"If-Match": '"1"'})
        close = await client.post(
            f"{url}/close", json={"outcome": "done"}, headers={"If-Match": '"2"'}
        )
    assert (note.status_code, start.status_code, close.status_code) == (
        201 if status == 200 else status,
        status,
        status,
    )
    async with as_(app, principal) as client:
        unknown = await client.post(f"/cases/{uuid.uuid4()}/start", headers={"If-Match": '"1"'})
    assert_problem(unknown, 404)


# -- events ----------------------------------------------------------------------------------


async def test_case_events_are_published_with_the_households_jurisdiction(
    infrastructure, clean_databases
):
    app = create_app(
        Settings(
            database_url=infrastructure.database_url("registry"),
            kafka_bootstrap_servers=infrastructure.bootstrap_servers,
            log_json=False,
            consumers_enabled=False,
            outbox_poll_interval_seconds=0.1,
        )
    )
    household = await household_in(infrastructure)
    async with running(app):
        case = await open_case(app, household, case_type="protection")
        url = f"/cases/{case['id']}"
        async with as_(app, DMK_SEN_SOK) as client:
            await client.post(
                f"{url}/assign", json={"assigned_admin_code": "1208"}, headers={"If-Match": '"1"'}
            )
            await client.post(
                f"{url}/close",
                json={"outcome": "Safe with relatives."},
                headers={"If-Match": '"2"'},
            )

        def ours(records):
            return [e for e in envelopes(records) if e.get("subject") == case["id"]]

        records = await read_topic(
            infrastructure.bootstrap_servers,
            "sp.registry.case",
            until=lambda r: len(ours(r)) >= 3,
        )
    events = ours(records)
    assert [e["type"] for e in events] == [
        "kh.gov.sp.registry.case.opened.v1",
        "kh.gov.sp.registry.case.assigned.v1",
        "kh.gov.sp.registry.case.closed.v1",
    ]
    assert {e["jurisdiction"] for e in events} == {VILLAGE_PHNOM_PENH_THMEI}
    opened, assigned, closed = (e["data"] for e in events)
    assert opened["case_type"] == "protection" and opened["household_id"] == str(household.id)
    assert opened["assigned_admin_code"] == "120801" and opened["status"] == "open"
    assert opened["origin"] is None and opened["due_on"] == case["due_on"]
    assert assigned["assigned_admin_code"] == "1208" and assigned["assigned_tier"] == "dmk"
    assert assigned["previous_admin_code"] == "120801"
    assert closed["status"] == "closed" and closed["outcome"] == "Safe with relatives."


# -- through the gateway ---------------------------------------------------------------------


async def test_cases_through_the_gateway(platform, infrastructure, clean_databases):
    household = await household_in(infrastructure)
    body = {"household_id": str(household.id), "case_type": "follow_up"}
    async with platform.client("cs.phnom-penh-thmei") as client:
        opened = await client.post("/registry/cases", json=body)
    assert opened.status_code == 201, opened.text
    url = f"/registry/cases/{opened.json()['id']}"
    async with platform.client("cs.tuek-thla") as client:
        sibling_read = await client.get(url)
        sibling_open = await client.post("/registry/cases", json=body)
        sibling_start = await client.post(f"{url}/start", headers={"If-Match": '"1"'})
    async with platform.client("cp.phnom-penh") as client:
        viewer_read = await client.get(url)
        viewer_open = await client.post("/registry/cases", json=body)  # no registry role
    async with platform.client("dmk.sen-sok") as client:
        worklist = await client.get("/registry/cases", params={"assigned_admin_code": "120801"})
        started = await client.post(f"{url}/start", headers={"If-Match": '"1"'})
    async with platform.client("anonymous") as client:
        anonymous = await client.get("/registry/cases")
    assert_problem(sibling_read, 404)
    assert_problem(sibling_open, 403)  # the service: outside its jurisdiction
    assert_problem(sibling_start, 403)
    assert viewer_read.status_code == 200
    assert_problem(viewer_open, 403)  # the gateway: the role is missing
    assert [c["id"] for c in worklist.json()["items"]] == [opened.json()["id"]]
    assert started.status_code == 200 and started.json()["status"] == "in_progress"
    assert anonymous.status_code == 401
