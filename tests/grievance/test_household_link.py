"""Linking a grievance to a registry household after intake: a hotline complaint taken before
anyone knew the household's code gets its household later, so an upheld exclusion error
still reaches the registry as a reassessment request."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from services.grievance.households import repository as households
from shared.events.catalog.grievance import GrievanceHouseholdLinked, GrievanceResolved
from tests.grievance.conftest import act, intake, record
from tests.grievance.test_jurisdiction import CALLERS, CHANGE, OWN
from tests.harness import envelopes, read_topic

HOUSEHOLD_ID = uuid.uuid4()
OTHER_HOUSEHOLD_ID = uuid.uuid4()
FAR_HOUSEHOLD_ID = uuid.uuid4()
# Members as the registry's events announce them: one of the household, one of Banteay
# Meanchey's household, one who left.
MEMBER_ID, FAR_MEMBER_ID, GONE_MEMBER_ID = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
CODE, OTHER_CODE, FAR_CODE = "HH000000013", "HH000000021", "HH000000039"


@pytest.fixture
async def known_households(service) -> None:
    """The read model as the registry's events leave it: two households in Phnom Penh Thmei's
    village 12080102 and one in Banteay Meanchey."""
    async with service.app.state.database.transaction() as session:
        for household_id, code, village in (
            (HOUSEHOLD_ID, CODE, "12080102"),
            (OTHER_HOUSEHOLD_ID, OTHER_CODE, "12080102"),
            (FAR_HOUSEHOLD_ID, FAR_CODE, "01020101"),
        ):
            await households.upsert(
                session,
                household_id=household_id,
                household_code=code,
                village_code=village,
                status="active",
                record_version=1,
                now=datetime.now(UTC),
            )
        for member_id, household_id, status in (
            (MEMBER_ID, HOUSEHOLD_ID, "active"),
            (FAR_MEMBER_ID, FAR_HOUSEHOLD_ID, "active"),
            (GONE_MEMBER_ID, HOUSEHOLD_ID, "removed"),
        ):
            await households.upsert_member(
                session,
                member_id=member_id,
                household_id=household_id,
                status=status,
                record_version=1,
                now=datetime.now(UTC),
            )


async def link(client, grievance: dict, body: dict, if_match: str | None = None):
    if if_match is None:
        if_match = (await client.get(f"/grievances/{grievance['id']}")).headers["etag"]
    return await client.post(
        f"/grievances/{grievance['id']}/household", json=body, headers={"If-Match": if_match}
    )


async def test_a_handler_links_the_household_and_an_upheld_decision_asks_for_reassessment(
    service, known_households, infrastructure
):
    async with service.client(OWN) as client:
        grievance = await record(client)  # taken on the phone: no household yet
        assert grievance["household_id"] is None
        member = str(MEMBER_ID)
        linked = await link(client, grievance, {"household_code": " hh000000013 ",
                                                "member_id": member})  # fmt: skip
        assert linked.status_code == 200, linked.text
        assert linked.json()["household_id"] == str(HOUSEHOLD_ID)
        assert linked.json()["member_id"] == member
        assert linked.json()["location_code"] == grievance["location_code"]
        assert linked.headers["etag"] != f'"{grievance["version"]}"'

        timeline = (await client.get(f"/grievances/{grievance['id']}/timeline")).json()
        [entry] = [e for e in timeline["items"] if e["kind"] == "household_linked"]
        assert entry["public"] is False
        assert entry["details"]["household_code"] == CODE
        public = await client.get(f"/public/grievances/{grievance['tracking_code']}")
        assert "household_linked" not in {e["kind"] for e in public.json()["timeline"]}

        await act(client, grievance, "acknowledge")
        resolved = await act(
            client, grievance, "resolve",
            {"decision": "upheld", "resolution_summary": "Back on the list."},
        )  # fmt: skip
        assert resolved.status_code == 200

    def seen(records) -> bool:
        types = {e["type"] for e in envelopes(records) if e.get("subject") == grievance["id"]}
        return {GrievanceHouseholdLinked.event_type(), GrievanceResolved.event_type()} <= types

    records = await read_topic(
        infrastructure.bootstrap_servers, GrievanceResolved.topic(), until=seen
    )
    about = [e for e in envelopes(records) if e.get("subject") == grievance["id"]]
    [linked_event] = [e for e in about if e["type"] == GrievanceHouseholdLinked.event_type()]
    event = GrievanceHouseholdLinked.model_validate(linked_event["data"])
    assert (event.household_id, str(event.member_id)) == (HOUSEHOLD_ID, member)
    assert event.previous_household_id is None
    [resolved_event] = [e for e in about if e["type"] == GrievanceResolved.event_type()]
    outcome = GrievanceResolved.model_validate(resolved_event["data"])
    assert outcome.household_id == HOUSEHOLD_ID
    assert outcome.reassessment_requested is True


async def test_the_same_link_again_changes_nothing_and_a_correction_is_recorded(
    service, known_households
):
    async with service.client(OWN) as client:
        grievance = await record(client)
        first = await link(client, grievance, {"household_code": CODE})
        again = await link(client, grievance, {"household_code": CODE})
        assert again.status_code == 200
        assert again.headers["etag"] == first.headers["etag"]
        corrected = await link(client, grievance, {"household_code": OTHER_CODE})
        assert corrected.json()["household_id"] == str(OTHER_HOUSEHOLD_ID)
        timeline = (await client.get(f"/grievances/{grievance['id']}/timeline")).json()
    links = [e["details"] for e in timeline["items"] if e["kind"] == "household_linked"]
    assert [(d["household_code"], d["previous_household_id"]) for d in links] == [
        (CODE, None),
        (OTHER_CODE, str(HOUSEHOLD_ID)),
    ]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"household_code": "HH12"}, 422, "household_code"),
        ({}, 422, "household_code"),
        ({"household_code": CODE, "member_id": "someone"}, 422, "member_id"),
        # A person of another province's household, and a member who left: both refused.
        ({"household_code": CODE, "member_id": str(FAR_MEMBER_ID)}, 422, "member_id"),
        ({"household_code": CODE, "member_id": str(GONE_MEMBER_ID)}, 422, "member_id"),
        ({"household_code": CODE, "member_id": str(uuid.uuid4())}, 422, "member_id"),
        ({"household_code": CODE, "extra": 1}, 422, "extra"),
        ({"household_code": "HH999999999"}, 422, "household_code"),  # unknown to the registry
        ({"household_code": FAR_CODE}, 422, "household_code"),  # outside the area
    ],
)
async def test_bad_links_are_refused_naming_the_field_and_change_nothing(
    service, known_households, body, status, field
):
    async with service.client(OWN) as client:
        grievance = await record(client)
        response = await link(client, grievance, body)
        after = await client.get(f"/grievances/{grievance['id']}")
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in str(response.json()["errors"])
    assert after.json()["household_id"] is None
    assert after.headers["etag"] == f'"{grievance["version"]}"'


async def test_a_link_needs_the_current_version_and_an_open_grievance(service, known_households):
    async with service.client(OWN) as client:
        grievance = await record(client)
        missing = await client.post(
            f"/grievances/{grievance['id']}/household", json={"household_code": CODE}
        )
        stale = await link(client, grievance, {"household_code": CODE}, if_match='"999"')
        assert (missing.status_code, stale.status_code) == (428, 412)
        await act(client, grievance, "reject", {"reason": "Not about social protection."})
        closed = await link(client, grievance, {"household_code": CODE})
    assert closed.status_code == 409
    assert closed.json()["type"].endswith("grievance-not-open")


@pytest.mark.parametrize("caller", CALLERS)
async def test_only_the_handling_unit_links(service, known_households, caller):
    async with service.client(OWN) as client:
        grievance = await record(client)
    async with service.client(CALLERS[caller]) as client:
        response = await link(client, grievance, {"household_code": CODE}, if_match="*")
    assert response.status_code == CHANGE[caller], response.text


async def test_staff_intake_refuses_a_member_of_another_household(service, known_households):
    """A hotline intake naming the household and a person of a household elsewhere: refused,
    nothing recorded; the household's own member is accepted."""
    async with service.client(OWN) as client:
        refused = await client.post(
            "/grievances",
            json=intake(household_id=str(HOUSEHOLD_ID), member_id=str(FAR_MEMBER_ID)),
        )
        accepted = await client.post(
            "/grievances", json=intake(household_id=str(HOUSEHOLD_ID), member_id=str(MEMBER_ID))
        )
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == "member_id"
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["member_id"] == str(MEMBER_ID)
