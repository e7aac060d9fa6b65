"""Change requests: the commune makes, the district checks. A change is validated when drafted,
recorded against the household's version when submitted, and applied by the verification
with the households and enrolments services' own rules; a household changed in between is
never overwritten (409, rejected as a version conflict). A move involves both communes and
the district of each."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, text

from services.registry.audit.models import RecordChange
from services.registry.change_requests.models import ChangeRequest
from services.registry.config import Settings
from services.registry.households.models import Household, Member
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

# Tonle Basak, Khan Chamkar Mon (Phnom Penh): a commune in another district.
VILLAGE_TONLE_BASAK = "12010101"


def person(sub: str, tier: Tier, code: str, *roles: str) -> Principal:
    return Principal(sub=sub, tier=tier, admin_code=code, roles=frozenset(roles))


NATIONAL_VERIFIER = person("national-verifier", Tier.NATIONAL, "", "registry.verifier")
CP_PHNOM_PENH_VERIFIER = person("cp-12-verifier", Tier.CP, "12", "registry.verifier")
CP_BANTEAY_MEANCHEY_VERIFIER = person("cp-01-verifier", Tier.CP, "01", "registry.verifier")
DMK_CHAMKAR_MON = person("dmk-1201", Tier.DMK, "1201", "registry.verifier")
CS_TONLE_BASAK = person("cs-120101", Tier.CS, "120101", "registry.officer")
# A commune officer who also holds the verifier role: still not a checker (tier rule).
CS_WITH_VERIFIER_ROLE = person(
    "cs-120801-b", Tier.CS, "120801", "registry.officer", "registry.verifier"
)
# The maker, later posted to the district: may not check their own request.
MAKER_AT_DISTRICT = person(CS_PHNOM_PENH_THMEI.sub, Tier.DMK, "1208", "registry.verifier")


async def household_in(infrastructure, village_code=VILLAGE_PHNOM_PENH_THMEI, **fields):
    fields.setdefault("status", "active")
    async with RegistryRows(infrastructure.database_url("registry")) as session:
        return await make_household(
            session,
            village_code=village_code,
            members=[
                member(),
                member(relationship="child", given_name_latin="Dara", birth_date=date(2012, 5, 1)),
            ],
            **fields,
        )


async def stored_household(app, household_id) -> Household:
    async with app.state.database.transaction() as session:
        return await session.get(Household, household_id)


async def members_of(app, household_id) -> dict[str, Member]:
    async with app.state.database.transaction() as session:
        rows = await session.execute(select(Member).where(Member.household_id == household_id))
        return {m.given_name_latin: m for m in rows.scalars()}


async def counts(app) -> tuple[int, int]:
    async with app.state.database.transaction() as session:
        requests = (
            await session.execute(select(func.count()).select_from(ChangeRequest))
        ).scalar_one()
        events = (await session.execute(select(func.count()).select_from(outbox))).scalar_one()
    return requests, events


def assert_problem(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    if field is not None:
        assert field in [e["field"] for e in body.get("errors", [])], body
    return body


async def draft(app, body: dict, principal=CS_PHNOM_PENH_THMEI) -> dict:
    async with as_(app, principal) as client:
        response = await client.post("/change-requests", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def act(app, principal, request: dict, action: str, json=None):
    """POST /change-requests/{id}/{action} with the request's current version."""
    async with as_(app, principal) as client:
        current = await client.get(f"/change-requests/{request['id']}")
        etag = current.headers.get("etag", '"1"')
        return await client.post(
            f"/change-requests/{request['id']}/{action}", json=json, headers={"If-Match": etag}
        )


async def submitted(app, body: dict) -> dict:
    request = await draft(app, body)
    response = await act(app, CS_PHNOM_PENH_THMEI, request, "submit")
    assert response.status_code == 200, response.text
    return response.json()


def address_change(household, address="House 12, Street 1986") -> dict:
    return {
        "change_type": "update_household",
        "household_id": str(household.id),
        "changes": {"address": address},
        "justification": "The family gave the new house number.",
    }


# -- the workflow ----------------------------------------------------------------------------


async def test_a_commune_drafts_and_submits_and_the_district_verifies_and_applies(
    app, infrastructure
):
    household = await household_in(infrastructure)
    request = await draft(app, address_change(household))
    assert request["status"] == "draft" and request["base_version"] is None
    assert (request["awaiting_action"], request["awaiting_unit"]) == ("submit", "120801")
    assert request["payload"] == {"changes": {"address": "House 12, Street 1986"}}

    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        url = f"/change-requests/{request['id']}"
        missing = await client.post(f"{url}/submit")
        sent = await client.post(f"{url}/submit", headers={"If-Match": '"1"'})
    assert_problem(missing, 428, "header.If-Match")
    body = sent.json()
    assert body["status"] == "submitted" and body["base_version"] == household.version
    assert (body["awaiting_action"], body["awaiting_unit"]) == ("verify", "1208")
    assert sent.headers["etag"] == '"2"'

    verified = await act(app, DMK_SEN_SOK, request, "verify")
    assert verified.status_code == 200, verified.text
    body = verified.json()
    assert body["status"] == "applied" and body["decided_by"] == DMK_SEN_SOK.sub
    assert body["verified_districts"] == ["1208"] and body["awaiting_action"] is None
    stored = await stored_household(app, household.id)
    assert stored.address == "House 12, Street 1986"
    assert body["result"]["household_version"] == stored.version == household.version + 1

    async with app.state.database.transaction() as session:
        history = (
            await session.execute(
                select(RecordChange.entity, RecordChange.action, RecordChange.actor_sub)
                .where(RecordChange.household_id == household.id)
                .order_by(RecordChange.id)
            )
        ).all()
    assert [tuple(h) for h in history] == [
        ("change_request", "created", CS_PHNOM_PENH_THMEI.sub),
        ("change_request", "submitted", CS_PHNOM_PENH_THMEI.sub),
        ("household", "updated", DMK_SEN_SOK.sub),
        ("change_request", "applied", DMK_SEN_SOK.sub),
    ]


@pytest.mark.parametrize(
    ("principal", "status"),
    [
        (CS_PHNOM_PENH_THMEI, 403),  # the maker's own commune: officers do not verify
        (CS_WITH_VERIFIER_ROLE, 403),  # a commune is never the checker, whatever its roles
        (CS_TUEK_THLA, 403),
        (MAKER_AT_DISTRICT, 403),  # maker and checker are different people
        (DMK_SEN_SOK, 200),
        (CP_PHNOM_PENH, 403),  # a viewer
        (CP_PHNOM_PENH_VERIFIER, 200),
        (CP_BANTEAY_MEANCHEY_VERIFIER, 403),
        (NATIONAL_VERIFIER, 200),
    ],
)
async def test_who_verifies_a_submitted_request(app, infrastructure, principal, status):
    household = await household_in(infrastructure)
    request = await submitted(app, address_change(household))
    response = await act(app, principal, request, "verify")
    assert response.status_code == status, response.text
    stored = await stored_household(app, household.id)
    assert (stored.address == "House 12, Street 1986") is (status == 200)


@pytest.mark.parametrize("principal", [DMK_SEN_SOK, CP_PHNOM_PENH_VERIFIER, NATIONAL_VERIFIER])
async def test_no_tier_finalises_what_the_commune_has_not_submitted(app, infrastructure, principal):
    household = await household_in(infrastructure)
    request = await draft(app, address_change(household))
    verify = await act(app, principal, request, "verify")
    reject = await act(app, principal, request, "reject", json={"reason": "not needed"})
    assert assert_problem(verify, 409)["type"].endswith("not-submitted")
    assert_problem(reject, 409)
    async with as_(app, principal) as client:
        still = (await client.get(f"/change-requests/{request['id']}")).json()
    assert still["status"] == "draft"
    assert (await stored_household(app, household.id)).address == ""


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
async def test_a_request_is_read_inside_ones_area_only(app, infrastructure, principal, visible):
    household = await household_in(infrastructure)
    request = await submitted(app, address_change(household))
    async with as_(app, principal) as client:
        one = await client.get(f"/change-requests/{request['id']}")
        listing = await client.get("/change-requests")
    if visible:
        assert one.status_code == 200 and one.json()["id"] == request["id"]
        assert [r["id"] for r in listing.json()["items"]] == [request["id"]]
    else:
        assert_problem(one, 404)
        assert listing.json()["items"] == []


@pytest.mark.parametrize(
    ("principal", "status"),
    [
        (CS_PHNOM_PENH_THMEI, 201),
        (CS_TUEK_THLA, 403),
        (DMK_SEN_SOK, 403),  # the district checks; it does not make
        (CP_BANTEAY_MEANCHEY_VERIFIER, 403),
        (NATIONAL_VERIFIER, 403),
    ],
)
async def test_only_the_households_commune_makes_requests(app, infrastructure, principal, status):
    household = await household_in(infrastructure)
    async with as_(app, principal) as client:
        response = await client.post("/change-requests", json=address_change(household))
    assert response.status_code == status, response.text
    assert (await counts(app))[0] == (1 if status == 201 else 0)


@pytest.mark.parametrize(
    ("principal", "status"),
    [
        (CS_PHNOM_PENH_THMEI, 200),
        (CS_TUEK_THLA, 403),
        (DMK_SEN_SOK, 403),
        (CP_BANTEAY_MEANCHEY_VERIFIER, 403),
        (NATIONAL_VERIFIER, 403),
    ],
)
async def test_only_the_commune_submits_and_cancels(app, infrastructure, principal, status):
    household = await household_in(infrastructure)
    first = await draft(app, address_change(household))
    second = await draft(app, address_change(household, "Another"))
    submit = await act(app, principal, first, "submit")
    cancel = await act(app, principal, second, "cancel", json={"reason": "typed twice"})
    assert (submit.status_code, cancel.status_code) == (status, status)
    if status == 200:
        assert submit.json()["status"] == "submitted"
        assert cancel.json()["status"] == "cancelled"
        assert cancel.json()["reason"] == "typed twice"


async def test_a_decided_request_takes_no_more_actions(app, infrastructure):
    household = await household_in(infrastructure)
    request = await submitted(app, address_change(household))
    rejected = await act(app, DMK_SEN_SOK, request, "reject", json={"reason": "No such house."})
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert rejected.json()["reason"] == "No such house."
    assert_problem(await act(app, DMK_SEN_SOK, request, "verify"), 409)
    assert_problem(await act(app, CS_PHNOM_PENH_THMEI, request, "cancel"), 409)
    assert_problem(await act(app, CS_PHNOM_PENH_THMEI, request, "submit"), 409)
    assert (await stored_household(app, household.id)).address == ""


# -- conflict detection ----------------------------------------------------------------------


async def test_a_request_whose_household_changed_since_submission_is_rejected_not_applied(
    app, infrastructure
):
    household = await household_in(infrastructure)
    first = await submitted(app, address_change(household, "House 1"))
    second = await submitted(app, address_change(household, "House 2"))
    assert first["base_version"] == second["base_version"] == household.version

    assert (await act(app, DMK_SEN_SOK, first, "verify")).status_code == 200
    conflict = await act(app, DMK_SEN_SOK, second, "verify")
    problem = assert_problem(conflict, 409)
    assert problem["type"].endswith("version-conflict")

    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        marked = (await client.get(f"/change-requests/{second['id']}")).json()
    assert marked["status"] == "rejected" and marked["reason"] == "version conflict"
    assert marked["decided_by"] == DMK_SEN_SOK.sub
    assert (await stored_household(app, household.id)).address == "House 1"


async def test_a_member_edited_since_submission_is_a_conflict_too(app, infrastructure):
    household = await household_in(infrastructure)
    child = (await members_of(app, household.id))["Dara"]
    request = await submitted(
        app,
        {
            "change_type": "update_member",
            "household_id": str(household.id),
            "member_id": str(child.id),
            "changes": {"school_enrolment": "primary"},
        },
    )
    async with app.state.database.transaction() as session:  # someone edits the member
        await session.execute(
            text("UPDATE member SET version = version + 1 WHERE id = :id"), {"id": child.id}
        )
    assert_problem(await act(app, DMK_SEN_SOK, request, "verify"), 409)
    assert (await members_of(app, household.id))["Dara"].school_enrolment is None


# -- every change type applies with the households and enrolments services -------------------


async def test_registering_a_household_through_a_change_request(app, infrastructure):
    request = await submitted(
        app,
        {
            "change_type": "register_household",
            "household": {
                "village_code": VILLAGE_PHNOM_PENH_THMEI,
                "address": "House 3",
                "members": [
                    {
                        "family_name_km": "សុខ",
                        "given_name_km": "ចាន់ថា",
                        "family_name_latin": "Sok",
                        "given_name_latin": "Chantha",
                        "sex": "female",
                        "birth_date": "1985-03-14",
                        "relationship": "head",
                        "national_id": "010203040",
                    }
                ],
            },
        },
    )
    assert request["household_id"] is None and request["awaiting_unit"] == "1208"
    async with as_(app, CP_PHNOM_PENH) as client:  # a viewer sees no national ID
        seen = (await client.get(f"/change-requests/{request['id']}")).json()
    assert seen["payload"]["household"]["members"][0]["national_id"] == "*****3040"
    assert request["payload"]["household"]["members"][0]["national_id"] == "010203040"

    verified = await act(app, DMK_SEN_SOK, request, "verify")
    assert verified.status_code == 200, verified.text
    body = verified.json()
    household = await stored_household(app, uuid.UUID(body["household_id"]))
    assert body["result"]["household_code"] == household.code
    assert household.status == "active" and household.verified_by == DMK_SEN_SOK.sub


async def _apply(app, household, change: dict) -> dict:
    request = await submitted(app, {"household_id": str(household.id), **change})
    response = await act(app, DMK_SEN_SOK, request, "verify")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "applied"
    return response.json()


async def test_member_changes_apply(app, infrastructure):
    household = await household_in(infrastructure)
    people = await members_of(app, household.id)
    head, child = people["Chantha"], people["Dara"]

    added = await _apply(
        app,
        household,
        {
            "change_type": "add_member",
            "member": {
                "family_name_km": "សុខ",
                "given_name_km": "វិចិត្រ",
                "family_name_latin": "Sok",
                "given_name_latin": "Vichet",
                "sex": "male",
                "birth_date": "1983-01-02",
                "relationship": "spouse",
            },
        },
    )
    await _apply(
        app,
        household,
        {
            "change_type": "update_member",
            "member_id": str(child.id),
            "changes": {"school_enrolment": "primary"},
        },
    )
    spouse_id = added["result"]["member_id"]
    await _apply(
        app,
        household,
        {"change_type": "change_head", "member_id": spouse_id},
    )
    await _apply(
        app,
        household,
        {"change_type": "remove_member", "member_id": str(head.id), "reason": "deceased"},
    )
    people = await members_of(app, household.id)
    assert people["Dara"].school_enrolment == "primary"
    assert people["Vichet"].relationship == "head"
    assert people["Chantha"].status == "deceased"
    assert (await stored_household(app, household.id)).head_member_id == uuid.UUID(spouse_id)


async def test_poverty_status_and_enrolment_changes_apply(app, infrastructure):
    household = await household_in(infrastructure)
    await _apply(
        app,
        household,
        {
            "change_type": "change_poverty_status",
            "poverty_status": {
                "level": "POOR_1",
                "method": "ON_DEMAND",
                "score": 60,
                "assessed_on": (date.today() - timedelta(days=10)).isoformat(),
                "valid_until": (date.today() + timedelta(days=700)).isoformat(),
            },
        },
    )
    assert (await stored_household(app, household.id)).poverty_level == "POOR_1"
    enrolled = await _apply(app, household, {"change_type": "enrol", "programme_code": "FOOD_AID"})
    assert enrolled["result"]["enrolment_status"] == "enrolled"
    exited = await _apply(
        app,
        household,
        {
            "change_type": "exit",
            "enrolment_id": enrolled["result"]["enrolment_id"],
            "reason": "Moved to Thailand for work.",
        },
    )
    assert exited["result"]["enrolment_id"] == enrolled["result"]["enrolment_id"]


async def test_a_member_who_leaves_ends_only_their_own_enrolments(app, infrastructure):
    """Removing a member exits the member's live enrolments (with the reason and the day, in
    history and on the enrolment topic), so no benefit can be recorded for them; the
    household's own enrolments stay as they were."""
    async with RegistryRows(infrastructure.database_url("registry")) as session:
        household = await make_household(
            session,
            poverty_level="POOR_1",
            poverty_method="ROUND",
            poverty_valid_until=date.today() + timedelta(days=700),
            members=[
                member(),
                member(
                    relationship="child",
                    given_name_latin="Dara",
                    birth_date=date.today() - timedelta(days=9 * 365),
                    school_enrolment="primary",
                ),
            ],
        )
    pupil = (await members_of(app, household.id))["Dara"]
    food = await _apply(app, household, {"change_type": "enrol", "programme_code": "FOOD_AID"})
    scholarship = await _apply(
        app,
        household,
        {
            "change_type": "enrol",
            "programme_code": "PRIMARY_SCHOLARSHIP",
            "member_id": str(pupil.id),
        },
    )
    assert scholarship["result"]["enrolment_status"] == "enrolled"
    await _apply(
        app,
        household,
        {"change_type": "remove_member", "member_id": str(pupil.id), "reason": "moved_out"},
    )
    async with as_(app, DMK_SEN_SOK) as client:
        ended = (await client.get(f"/enrolments/{scholarship['result']['enrolment_id']}")).json()
        kept = (await client.get(f"/enrolments/{food['result']['enrolment_id']}")).json()
        benefit = await client.post(
            f"/enrolments/{ended['id']}/benefits",
            json={
                "period": date.today().strftime("%Y-%m"),
                "amount_khr": 40_000,
                "channel": "cash_wing",
                "status": "scheduled",
            },
        )
    today = app.state.clock.today()
    assert (ended["status"], ended["exited_on"]) == ("exited", str(today))
    assert "moved_out" in ended["status_reason"]
    assert kept["status"] == "enrolled"
    assert "exited" in assert_problem(benefit, 409)["detail"]
    async with app.state.database.transaction() as session:
        exits = (
            (
                await session.execute(
                    select(outbox.c.aggregate_id).where(
                        outbox.c.type == "kh.gov.sp.registry.enrolment.exited.v1"
                    )
                )
            )
            .scalars()
            .all()
        )
        actions = (
            (
                await session.execute(
                    select(RecordChange.action).where(
                        RecordChange.entity_id == uuid.UUID(ended["id"])
                    )
                )
            )
            .scalars()
            .all()
        )
    assert exits == [ended["id"]]
    assert "exited" in actions


async def test_an_enrolment_the_rules_refuse_rejects_the_request(app, infrastructure):
    household = await household_in(infrastructure, poverty_level="NOT_POOR")
    request = await submitted(
        app,
        {"change_type": "enrol", "household_id": str(household.id), "programme_code": "FOOD_AID"},
    )
    problem = assert_problem(await act(app, DMK_SEN_SOK, request, "verify"), 409)
    assert "not eligible" in problem["detail"]
    async with as_(app, DMK_SEN_SOK) as client:
        marked = (await client.get(f"/change-requests/{request['id']}")).json()
    assert marked["status"] == "rejected" and marked["result"]["enrolment_status"] == "rejected"


# -- moving a household: both communes, both districts ---------------------------------------


def move_to(household, village_code) -> dict:
    return {
        "change_type": "move_household",
        "household_id": str(household.id),
        "to_village_code": village_code,
    }


async def test_a_move_to_a_sibling_commune_needs_its_acceptance_then_the_district(
    app, infrastructure
):
    household = await household_in(infrastructure)
    request = await submitted(app, move_to(household, VILLAGE_TUEK_THLA))
    assert (request["awaiting_action"], request["awaiting_unit"]) == ("accept_move", "120802")

    async with as_(app, CS_TUEK_THLA) as client:  # the destination sees it, and it awaits it
        theirs = (await client.get("/change-requests", params={"awaiting_me": "true"})).json()
    assert [r["id"] for r in theirs["items"]] == [request["id"]]

    too_early = await act(app, DMK_SEN_SOK, request, "verify")
    assert assert_problem(too_early, 409)["type"].endswith("awaiting-destination")
    assert_problem(await act(app, CS_PHNOM_PENH_THMEI, request, "accept-move"), 403)
    accepted = await act(app, CS_TUEK_THLA, request, "accept-move")
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["destination_accepted_by"] == CS_TUEK_THLA.sub
    assert (accepted.json()["awaiting_action"], accepted.json()["awaiting_unit"]) == (
        "verify",
        "1208",
    )
    assert_problem(await act(app, CS_TUEK_THLA, request, "accept-move"), 409)

    verified = await act(app, DMK_SEN_SOK, request, "verify")
    assert verified.status_code == 200 and verified.json()["status"] == "applied"
    stored = await stored_household(app, household.id)
    assert stored.village_code == VILLAGE_TUEK_THLA
    assert {m.village_code for m in (await members_of(app, household.id)).values()} == {
        VILLAGE_TUEK_THLA
    }


async def test_a_move_to_another_district_is_verified_by_both_districts_in_order(
    app, infrastructure
):
    household = await household_in(infrastructure)
    request = await submitted(app, move_to(household, VILLAGE_TONLE_BASAK))
    assert (await act(app, CS_TONLE_BASAK, request, "accept-move")).status_code == 200

    # The origin district waits for the destination district to agree to receive it.
    early = await act(app, DMK_SEN_SOK, request, "verify")
    assert assert_problem(early, 409)["type"].endswith("awaiting-other-district")
    first = await act(app, DMK_CHAMKAR_MON, request, "verify")
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "submitted"
    assert first.json()["verified_districts"] == ["1201"]
    assert first.json()["awaiting_unit"] == "1208"
    assert (await stored_household(app, household.id)).village_code == VILLAGE_PHNOM_PENH_THMEI
    assert_problem(await act(app, DMK_CHAMKAR_MON, request, "verify"), 409)

    last = await act(app, DMK_SEN_SOK, request, "verify")
    assert last.status_code == 200 and last.json()["status"] == "applied"
    assert last.json()["verified_districts"] == ["1201", "1208"]
    assert (await stored_household(app, household.id)).village_code == VILLAGE_TONLE_BASAK


async def test_a_province_over_both_districts_verifies_a_move_in_one_step(app, infrastructure):
    household = await household_in(infrastructure)
    request = await submitted(app, move_to(household, VILLAGE_TONLE_BASAK))
    assert (await act(app, CS_TONLE_BASAK, request, "accept-move")).status_code == 200
    verified = await act(app, CP_PHNOM_PENH_VERIFIER, request, "verify")
    assert verified.status_code == 200 and verified.json()["status"] == "applied"
    assert verified.json()["verified_districts"] == ["1201", "1208"]


async def test_the_destination_commune_may_refuse_a_move(app, infrastructure):
    household = await household_in(infrastructure)
    request = await submitted(app, move_to(household, VILLAGE_TUEK_THLA))
    refused = await act(
        app,
        CS_TUEK_THLA,
        request,
        "reject",
        json={"reason": "Nobody of that name lives here."},
    )
    assert refused.status_code == 200 and refused.json()["status"] == "rejected"
    # Any other commune officer may not reject anything.
    other = await submitted(app, address_change(household))
    assert_problem(await act(app, CS_TUEK_THLA, other, "reject", json={"reason": "no way"}), 403)
    assert (await stored_household(app, household.id)).village_code == VILLAGE_PHNOM_PENH_THMEI


# -- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        # An unknown type names the discriminator, and the reason lists the known types.
        ({"change_type": "paint_house"}, 422, "change_type"),
        ({"change_type": "add_member"}, 422, "add_member.member"),
        (
            {"change_type": "move_household", "to_village_code": "12089999"},
            422,
            "move_household.to_village_code",
        ),
        (
            {"change_type": "move_household", "to_village_code": VILLAGE_PHNOM_PENH_THMEI},
            422,
            "to_village_code",
        ),
        ({"change_type": "update_household", "changes": {}}, 422, "update_household"),
        (
            {"change_type": "update_household", "changes": {"village_code": VILLAGE_TUEK_THLA}},
            422,
            "changes.village_code",
        ),
        ({"change_type": "change_head", "member_id": str(uuid.uuid4())}, 422, "member_id"),
        ({"change_type": "enrol", "programme_code": "NO_SUCH"}, 422, "programme_code"),
        (
            {"change_type": "exit", "enrolment_id": str(uuid.uuid4()), "reason": "x"},
            422,
            "exit.reason",
        ),
        (
            {"change_type": "exit", "enrolment_id": str(uuid.uuid4()), "reason": "left"},
            422,
            "enrolment_id",
        ),
        (
            {"change_type": "enrol", "programme_code": "FOOD_AID", "colour": "red"},
            422,
            "enrol.colour",
        ),
    ],
)
async def test_bad_changes_are_named_and_nothing_is_written(
    app, infrastructure, body, status, field
):
    household = await household_in(infrastructure)
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        response = await client.post(
            "/change-requests", json={"household_id": str(household.id), **body}
        )
    problem = assert_problem(response, status, field)
    if field == "change_type":
        assert "move_household" in problem["errors"][0]["reason"]
    assert await counts(app) == (0, 0)


async def test_requests_need_a_verified_household(app, infrastructure):
    pending = await household_in(infrastructure, status="pending_verification")
    unknown = {**address_change(pending), "household_id": str(uuid.uuid4())}
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        direct = await client.post("/change-requests", json=address_change(pending))
        missing = await client.post("/change-requests", json=unknown)
    assert assert_problem(direct, 409)["type"].endswith("direct-edit-instead")
    assert_problem(missing, 422, "household_id")
    assert await counts(app) == (0, 0)


# -- worklists -------------------------------------------------------------------------------


async def test_worklists_show_what_awaits_each_unit(app, infrastructure):
    household = await household_in(infrastructure)
    a_draft = await draft(app, address_change(household, "draft"))
    to_verify = await submitted(app, address_change(household, "verify me"))
    a_move = await submitted(app, move_to(household, VILLAGE_TONLE_BASAK))

    async def awaiting(principal, **params):
        async with as_(app, principal) as client:
            response = await client.get(
                "/change-requests", params={"awaiting_me": "true", **params}
            )
        assert response.status_code == 200, response.text
        return [r["id"] for r in response.json()["items"]]

    assert await awaiting(CS_PHNOM_PENH_THMEI) == [a_draft["id"]]
    assert await awaiting(DMK_SEN_SOK) == [to_verify["id"]]
    assert await awaiting(CS_TONLE_BASAK) == [a_move["id"]]
    assert await awaiting(DMK_CHAMKAR_MON) == []
    await act(app, CS_TONLE_BASAK, a_move, "accept-move")
    assert await awaiting(DMK_CHAMKAR_MON) == [a_move["id"]]
    assert await awaiting(CP_PHNOM_PENH_VERIFIER) == [to_verify["id"], a_move["id"]]
    assert await awaiting(CP_BANTEAY_MEANCHEY_VERIFIER) == []

    async with as_(app, DMK_SEN_SOK) as client:
        by_type = await client.get("/change-requests", params={"change_type": "move_household"})
        by_status = await client.get("/change-requests", params={"status": "draft"})
        by_place = await client.get("/change-requests", params={"location": "120101"})
        page = await client.get("/change-requests", params={"limit": 2})
        rest = await client.get(
            "/change-requests", params={"limit": 2, "cursor": page.json()["next_cursor"]}
        )
        bad = await client.get("/change-requests", params={"location": "99"})
    assert [r["id"] for r in by_type.json()["items"]] == [a_move["id"]]
    assert [r["id"] for r in by_status.json()["items"]] == [a_draft["id"]]
    assert [r["id"] for r in by_place.json()["items"]] == [a_move["id"]]
    assert [r["id"] for r in page.json()["items"] + rest.json()["items"]] == [
        a_draft["id"],
        to_verify["id"],
        a_move["id"],
    ]
    assert_problem(bad, 422, "query.location")


# -- events ----------------------------------------------------------------------------------


async def test_change_request_events_are_published(infrastructure, clean_databases):
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
        applied = await submitted(app, move_to(household, VILLAGE_TUEK_THLA))
        conflicting = await submitted(app, address_change(household))
        await act(app, CS_TUEK_THLA, applied, "accept-move")
        assert (await act(app, DMK_SEN_SOK, applied, "verify")).status_code == 200
        assert (await act(app, DMK_SEN_SOK, conflicting, "verify")).status_code == 409
        ids = {applied["id"], conflicting["id"]}

        def ours(records):
            return [e for e in envelopes(records) if e.get("subject") in ids]

        records = await read_topic(
            infrastructure.bootstrap_servers,
            "sp.registry.change_request",
            until=lambda r: len(ours(r)) >= 4,
        )
    events = {(e["subject"], e["type"].split(".")[-2]): e for e in ours(records)}
    assert set(events) == {
        (applied["id"], "submitted"),
        (applied["id"], "applied"),
        (conflicting["id"], "submitted"),
        (conflicting["id"], "rejected"),
    }
    move = events[(applied["id"], "applied")]
    assert move["type"] == "kh.gov.sp.registry.change_request.applied.v1"
    assert move["jurisdiction"] == VILLAGE_PHNOM_PENH_THMEI  # where it was
    assert move["data"]["village_code"] == VILLAGE_TUEK_THLA  # where the change applies
    assert move["data"]["change_type"] == "move_household"
    assert move["data"]["household_id"] == str(household.id)
    rejected = events[(conflicting["id"], "rejected")]["data"]
    assert rejected["reason"] == "version conflict" and rejected["status"] == "rejected"


# -- through the gateway ---------------------------------------------------------------------


async def test_change_requests_through_the_gateway(platform, infrastructure, clean_databases):
    household = await household_in(infrastructure)
    async with platform.client("cs.phnom-penh-thmei") as client:
        created = await client.post("/registry/change-requests", json=address_change(household))
        url = f"/registry/change-requests/{created.json()['id']}"
        sent = await client.post(f"{url}/submit", headers={"If-Match": '"1"'})
        own_verify = await client.post(f"{url}/verify", headers={"If-Match": '"2"'})
    async with platform.client("cs.tuek-thla") as client:
        sibling_read = await client.get(url)
        sibling_submit = await client.post(f"{url}/submit", headers={"If-Match": '"2"'})
    async with platform.client("cp.banteay-meanchey") as client:
        province_read = await client.get(url)
    async with platform.client("dmk.sen-sok") as client:
        district_create = await client.post(
            "/registry/change-requests", json=address_change(household)
        )
        verified = await client.post(f"{url}/verify", headers={"If-Match": '"2"'})
    async with platform.client("national.officer") as client:
        national_read = await client.get(url)
    assert created.status_code == 201, created.text
    assert sent.status_code == 200
    assert_problem(own_verify, 403)  # the gateway: verify is not a commune's route
    assert_problem(sibling_read, 404)
    assert_problem(sibling_submit, 403)  # the service: not its household
    assert_problem(province_read, 404)
    assert_problem(district_create, 403)  # the gateway: districts do not make requests
    assert verified.status_code == 200 and verified.json()["status"] == "applied"
    assert national_read.status_code == 200


async def test_a_retried_draft_is_created_once(app, infrastructure):
    household = await household_in(infrastructure)
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        first = await client.post(
            "/change-requests", json=address_change(household), headers={"Idempotency-Key": "cr-1"}
        )
        again = await client.post(
            "/change-requests", json=address_change(household), headers={"Idempotency-Key": "cr-1"}
        )
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    assert (await counts(app))[0] == 1


async def test_two_verifiers_at_once_apply_the_change_once(app, infrastructure):
    import asyncio

    household = await household_in(infrastructure)
    request = await submitted(app, address_change(household))
    url = f"/change-requests/{request['id']}/verify"
    async with (
        as_(app, DMK_SEN_SOK) as district,
        as_(app, NATIONAL_VERIFIER) as national,
    ):
        results = await asyncio.gather(
            district.post(url, headers={"If-Match": '"2"'}),
            national.post(url, headers={"If-Match": '"2"'}),
        )
    assert sorted(r.status_code for r in results) in ([200, 409], [200, 412])
    stored = await stored_household(app, household.id)
    assert stored.version == household.version + 1  # applied exactly once
