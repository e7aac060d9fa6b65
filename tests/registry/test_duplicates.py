"""Duplicate households: detection at registration, the review queue, dismiss, confirm with
merge; jurisdiction, bad input and events."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import func, select

from services.registry.audit.models import RecordChange
from services.registry.duplicates import service as duplicates
from services.registry.duplicates.models import DuplicateCandidate
from services.registry.enrolments.models import Enrolment
from services.registry.households.models import Household, Member
from shared.principal import Principal
from shared.tiers import Tier
from tests.harness import (
    CP_BANTEAY_MEANCHEY,
    CP_PHNOM_PENH,
    CS_PHNOM_PENH_THMEI,
    CS_TUEK_THLA,
    DMK_SEN_SOK,
    NATIONAL,
    client_for,
    envelopes,
    read_topic,
    running,
)
from tests.registry.factories import (
    VILLAGE_BANTEAY_MEANCHEY,
    VILLAGE_PHNOM_PENH_THMEI,
    VILLAGE_TUEK_THLA,
    RegistryRows,
    make_household,
    member,
)

NATIONAL_VERIFIER = Principal(
    sub="national-verifier", tier=Tier.NATIONAL, roles=frozenset({"registry.verifier"})
)


def rows(infrastructure):
    return RegistryRows(infrastructure.database_url("registry"))


async def flag(infrastructure, *households) -> list[DuplicateCandidate]:
    async with rows(infrastructure) as session:
        return await duplicates.flag_duplicates(
            session, household_ids=[h.id for h in households], principal=CS_PHNOM_PENH_THMEI
        )


async def count(app, model, *where) -> int:
    async with app.state.database.transaction() as session:
        return await session.scalar(select(func.count()).select_from(model).where(*where))


# -- detection ---------------------------------------------------------------------------------


async def test_each_kind_of_likeness_is_flagged_and_strangers_are_not(app, infrastructure):
    async with rows(infrastructure) as session:
        existing = await make_household(
            session,
            members=[
                member(national_id="010203040"),
                member(
                    relationship="spouse",
                    sex="male",
                    family_name_km="កែវ",
                    given_name_km="សុភា",
                    family_name_latin="Keo",
                    given_name_latin="Sophea",
                    birth_date=date(1980, 5, 5),
                    phone="+85512345678",
                ),
            ],
        )
        by_phone = await make_household(
            session,
            village_code=VILLAGE_TUEK_THLA,
            members=[
                member(
                    given_name_km="ស្រីមុំ",
                    given_name_latin="Sreymom",
                    phone="+85512345678",
                    birth_date=date(1990, 1, 1),
                )
            ],
        )
        # Same Latin name and birth date, same commune; Khmer spelt slightly differently.
        by_name = await make_household(
            session,
            members=[member(given_name_km="ចាន់ថារ", national_id=None)],
        )
        # A Khmer name like the spouse's, a year apart, in the same district.
        khmer_alike = await make_household(
            session,
            village_code=VILLAGE_TUEK_THLA,
            members=[
                member(
                    sex="male",
                    family_name_km="កែវ",
                    given_name_km="សុភាព",
                    family_name_latin="Kaev",
                    given_name_latin="Sopheap",
                    birth_date=date(1981, 2, 2),
                )
            ],
        )
        # The same name in another province and a different birth decade: no suspicion.
        stranger = await make_household(
            session,
            village_code=VILLAGE_BANTEAY_MEANCHEY,
            members=[member(birth_date=date(1960, 1, 1))],
        )
        by_nid = await make_household(
            session,
            village_code=VILLAGE_TUEK_THLA,
            members=[
                member(
                    given_name_km="ដារា",
                    given_name_latin="Dara",
                    national_id="010203040",
                    birth_date=date(2000, 1, 1),
                )
            ],
        )
    flagged = await flag(infrastructure, by_phone, by_name, khmer_alike, stranger, by_nid)
    reasons = {c.household_id: (c.other_household_id, c.reasons) for c in flagged}
    assert reasons[by_phone.id] == (existing.id, ["phone"])
    assert reasons[by_name.id][0] == existing.id
    assert "latin_name_birth_commune" in reasons[by_name.id][1]
    assert reasons[khmer_alike.id] == (existing.id, ["khmer_name_similarity"])
    assert reasons[by_nid.id] == (existing.id, ["national_id"])
    assert stranger.id not in reasons
    khmer = next(c for c in flagged if c.household_id == khmer_alike.id)
    assert 0.6 <= khmer.khmer_name_score < 1
    assert khmer.village_code == VILLAGE_TUEK_THLA
    assert khmer.other_village_code == VILLAGE_PHNOM_PENH_THMEI
    assert len(khmer.member_ids) == 2

    # Flagging again finds the same pairs and adds nothing.
    assert await flag(infrastructure, by_phone, by_name, khmer_alike, stranger, by_nid) == []
    assert await count(app, DuplicateCandidate) == 4


async def test_flagging_emits_duplicate_flagged(app, infrastructure):
    async with rows(infrastructure) as session:
        existing = await make_household(session, members=[member(national_id="555666777")])
        newer = await make_household(
            session, village_code=VILLAGE_TUEK_THLA, members=[member(national_id="555666777")]
        )
    [candidate] = await flag(infrastructure, newer)
    async with _relay(infrastructure):
        records = await read_topic(
            infrastructure.bootstrap_servers,
            "sp.registry.duplicate",
            until=lambda rs: any(e["subject"] == str(candidate.id) for e in envelopes(rs)),
        )
    [event] = [e for e in envelopes(records) if e["subject"] == str(candidate.id)]
    assert event["type"] == "kh.gov.sp.registry.duplicate.flagged.v1"
    assert event["jurisdiction"] == VILLAGE_TUEK_THLA
    assert event["data"]["household_id"] == str(newer.id)
    assert event["data"]["other_household_id"] == str(existing.id)
    assert event["data"]["reasons"] == ["khmer_name_similarity", "national_id"]
    assert event["data"]["status"] == "suspected"
    assert "555666777" not in str(event)


def _relay(infrastructure):
    """The registry app with its outbox relay, to publish what the test wrote."""
    from services.registry.config import Settings
    from services.registry.main import create_app

    return running(
        create_app(
            Settings(
                database_url=infrastructure.database_url("registry"),
                kafka_bootstrap_servers=infrastructure.bootstrap_servers,
                log_json=False,
                consumers_enabled=False,
                outbox_poll_interval_seconds=0.1,
            )
        )
    )


# -- the review queue ----------------------------------------------------------------------


@pytest.fixture
async def pair(app, infrastructure):
    """An active household and a newer pending one with the same head (and a second member)."""
    async with rows(infrastructure) as session:
        existing = await make_household(
            session,
            members=[member(national_id="010203040", phone="+85512000111")],
        )
        newer = await make_household(
            session,
            status="pending_verification",
            members=[
                member(national_id="010203040"),
                member(
                    relationship="child",
                    sex="male",
                    birth_date=date(2015, 4, 4),
                    given_name_km="វិចិត្រ",
                    given_name_latin="Vichet",
                ),
            ],
        )
    [candidate] = await flag(infrastructure, newer)
    return existing, newer, candidate


PEOPLE_WHO_SEE = [CS_PHNOM_PENH_THMEI, DMK_SEN_SOK, CP_PHNOM_PENH, NATIONAL]
PEOPLE_WHO_DO_NOT = [CS_TUEK_THLA, CP_BANTEAY_MEANCHEY]


@pytest.mark.parametrize("principal", PEOPLE_WHO_SEE + PEOPLE_WHO_DO_NOT)
async def test_worklist_and_detail_follow_jurisdiction(app, pair, principal):
    _, newer, candidate = pair
    async with client_for(app, principal, audience="registry") as client:
        listing = await client.get("/duplicates")
        detail = await client.get(f"/duplicates/{candidate.id}")
        of_household = await client.get(f"/households/{newer.id}/duplicates")
    assert listing.status_code == 200
    ids = [i["id"] for i in listing.json()["items"]]
    if principal in PEOPLE_WHO_SEE:
        assert ids == [str(candidate.id)]
        assert detail.status_code == 200
        assert detail.headers["etag"] == '"1"'
        assert [i["id"] for i in of_household.json()["items"]] == [str(candidate.id)]
    else:
        assert ids == []
        assert detail.status_code == 404
        assert of_household.status_code == 404


async def test_detail_shows_both_households_and_masks_for_viewers(app, pair):
    existing, newer, candidate = pair
    async with client_for(app, DMK_SEN_SOK, audience="registry") as client:
        verifier = (await client.get(f"/duplicates/{candidate.id}")).json()
    async with client_for(app, CP_PHNOM_PENH, audience="registry") as client:
        viewer = (await client.get(f"/duplicates/{candidate.id}")).json()
    assert verifier["household"]["id"] == str(newer.id)
    assert verifier["other_household"]["id"] == str(existing.id)
    assert len(verifier["household"]["members"]) == 2
    assert verifier["reasons"] == [
        "khmer_name_similarity",
        "latin_name_birth_commune",
        "national_id",
    ]
    assert verifier["other_household"]["members"][0]["national_id"] == "010203040"
    assert verifier["other_household"]["sensitive_fields_shown"] is True
    assert viewer["other_household"]["members"][0]["national_id"] == "*****3040"
    assert viewer["other_household"]["members"][0]["phone"].endswith("11")
    assert "12000" not in viewer["other_household"]["members"][0]["phone"]
    assert viewer["other_household"]["sensitive_fields_shown"] is False
    # Each read of the two households is logged.
    from services.registry.audit.models import PersonalDataAccess

    assert await count(app, PersonalDataAccess) == 4


async def test_worklist_filters_by_status_and_reason(app, pair):
    _, _, candidate = pair
    async with client_for(app, DMK_SEN_SOK, audience="registry") as client:
        by_nid = await client.get("/duplicates", params={"reason": "national_id"})
        by_phone = await client.get("/duplicates", params={"reason": "phone"})
        dismissed = await client.get("/duplicates", params={"status": "dismissed"})
        bad = await client.get("/duplicates", params={"status": "maybe"})
    assert [i["id"] for i in by_nid.json()["items"]] == [str(candidate.id)]
    assert by_phone.json()["items"] == []
    assert dismissed.json()["items"] == []
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "query.status"


# -- dismiss -----------------------------------------------------------------------------------


async def test_dismiss_needs_if_match_and_a_reason_then_resolves_once(app, pair, infrastructure):
    _, _, candidate = pair
    url = f"/duplicates/{candidate.id}/dismiss"
    async with client_for(app, DMK_SEN_SOK, audience="registry") as client:
        without = await client.post(url, json={"reason": "twins"})
        stale = await client.post(url, json={"reason": "twins"}, headers={"If-Match": '"7"'})
        empty = await client.post(url, json={"reason": ""}, headers={"If-Match": '"1"'})
        done = await client.post(
            url, json={"reason": "different people"}, headers={"If-Match": '"1"'}
        )
        again = await client.post(url, json={"reason": "again"}, headers={"If-Match": '"2"'})
    assert without.status_code == 428
    assert stale.status_code == 412
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "reason"
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "dismissed"
    assert done.json()["reviewer"] == DMK_SEN_SOK.sub
    assert done.headers["etag"] == '"2"'
    assert again.status_code == 409
    async with _relay(infrastructure):
        records = await read_topic(
            infrastructure.bootstrap_servers,
            "sp.registry.duplicate",
            until=lambda rs: any(
                e["type"].endswith("duplicate.resolved.v1") and e["subject"] == str(candidate.id)
                for e in envelopes(rs)
            ),
        )
    [event] = [
        e
        for e in envelopes(records)
        if e["subject"] == str(candidate.id) and e["type"].endswith("resolved.v1")
    ]
    assert event["data"]["status"] == "dismissed"
    assert event["data"]["decision_reason"] == "different people"
    assert event["jurisdiction"] == VILLAGE_PHNOM_PENH_THMEI


@pytest.mark.parametrize(
    ("principal", "status"),
    [
        (CS_PHNOM_PENH_THMEI, 403),  # a commune officer may view, not decide
        (CS_TUEK_THLA, 404),
        (CP_PHNOM_PENH, 403),  # a viewer, no verifier role
        (CP_BANTEAY_MEANCHEY, 404),
        (NATIONAL, 403),  # viewer only
    ],
)
async def test_only_a_verifier_over_both_households_decides(app, pair, principal, status):
    _, _, candidate = pair
    async with client_for(app, principal, audience="registry") as client:
        response = await client.post(
            f"/duplicates/{candidate.id}/dismiss", json={"reason": "x"}, headers={"If-Match": '"1"'}
        )
    assert response.status_code == status
    assert await count(app, DuplicateCandidate, DuplicateCandidate.status == "suspected") == 1


async def test_a_district_verifier_cannot_decide_a_pair_reaching_into_another_district(
    app, infrastructure
):
    async with rows(infrastructure) as session:
        await make_household(
            session,
            village_code=VILLAGE_BANTEAY_MEANCHEY,
            members=[member(national_id="123123123")],
        )
        newer = await make_household(session, members=[member(national_id="123123123")])
    [candidate] = await flag(infrastructure, newer)
    async with client_for(app, DMK_SEN_SOK, audience="registry") as client:
        seen = await client.get(f"/duplicates/{candidate.id}")
        decided = await client.post(
            f"/duplicates/{candidate.id}/dismiss", json={"reason": "x"}, headers={"If-Match": '"1"'}
        )
    assert seen.status_code == 200
    assert decided.status_code == 403
    async with client_for(app, NATIONAL_VERIFIER, audience="registry") as client:
        decided = await client.post(
            f"/duplicates/{candidate.id}/dismiss", json={"reason": "x"}, headers={"If-Match": '"1"'}
        )
    assert decided.status_code == 200


# -- confirm and merge ---------------------------------------------------------------------


async def test_confirm_merges_members_enrolments_and_dissolves_the_other(app, pair, infrastructure):
    existing, newer, candidate = pair
    async with rows(infrastructure) as session:
        enrolment = Enrolment(
            programme_code="FAMILY_PACKAGE", household_id=newer.id, status="enrolled"
        )
        session.add(enrolment)
    async with client_for(app, DMK_SEN_SOK, audience="registry") as client:
        response = await client.post(
            f"/duplicates/{candidate.id}/confirm",
            json={"surviving_household_id": str(existing.id), "reason": "same family"},
            headers={"If-Match": '"1"'},
        )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "confirmed"
    assert body["surviving_household_id"] == str(existing.id)
    async with app.state.database.transaction() as session:
        dissolved = await session.get(Household, newer.id)
        survivor_members = (
            await session.scalars(select(Member).where(Member.household_id == existing.id))
        ).all()
        old_members = (
            await session.scalars(select(Member).where(Member.household_id == newer.id))
        ).all()
        moved_enrolment = await session.get(Enrolment, enrolment.id)
        history = (
            await session.scalars(
                select(RecordChange.action).where(RecordChange.household_id == existing.id)
            )
        ).all()
    assert dissolved.status == "dissolved"
    # The child moved (same id), the head matched the existing head and was not copied.
    assert sorted(m.given_name_latin for m in survivor_members) == ["Chantha", "Vichet"]
    [duplicate_head] = old_members
    assert duplicate_head.status == "removed"
    assert duplicate_head.status_reason.startswith("duplicate of member")
    assert moved_enrolment.household_id == existing.id
    assert moved_enrolment.status == "enrolled"
    assert {"merged", "moved_by_merge"} <= set(history)

    async with _relay(infrastructure):
        records = await read_topic(
            infrastructure.bootstrap_servers,
            "sp.registry.household",
            until=lambda rs: any(
                e["type"].endswith("household.dissolved.v1") and e["subject"] == str(newer.id)
                for e in envelopes(rs)
            ),
        )
    [dissolved_event] = [
        e for e in envelopes(records) if e["subject"] == str(newer.id) and "dissolved" in e["type"]
    ]
    assert dissolved_event["data"]["merged_into_household_id"] == str(existing.id)
    assert dissolved_event["jurisdiction"].startswith("1208")


async def test_confirm_keeps_one_live_enrolment_per_programme(app, pair, infrastructure):
    existing, newer, candidate = pair
    async with rows(infrastructure) as session:
        kept = Enrolment(programme_code="FOOD_AID", household_id=existing.id, status="enrolled")
        twin = Enrolment(programme_code="FOOD_AID", household_id=newer.id, status="enrolled")
        session.add_all([kept, twin])
    async with client_for(app, NATIONAL_VERIFIER, audience="registry") as client:
        response = await client.post(
            f"/duplicates/{candidate.id}/confirm",
            json={"surviving_household_id": str(existing.id)},
            headers={"If-Match": '"1"'},
        )
    assert response.status_code == 200, response.text
    async with app.state.database.transaction() as session:
        statuses = (
            await session.execute(
                select(Enrolment.id, Enrolment.status).where(Enrolment.household_id == existing.id)
            )
        ).all()
    assert dict(statuses) == {kept.id: "enrolled", twin.id: "exited"}


async def test_confirm_rejects_bad_choices_and_writes_nothing(app, pair):
    existing, newer, candidate = pair
    url = f"/duplicates/{candidate.id}/confirm"
    headers = {"If-Match": '"1"'}
    async with client_for(app, DMK_SEN_SOK, audience="registry") as client:
        stranger = await client.post(
            url, json={"surviving_household_id": str(uuid.uuid4())}, headers=headers
        )
        wrong_member = await client.post(
            url,
            json={
                "surviving_household_id": str(existing.id),
                "identical_members": [
                    {
                        "member_id": str(existing.head_member_id),
                        "same_as_member_id": str(newer.head_member_id),
                    }
                ],
            },
            headers=headers,
        )
        unknown_field = await client.post(
            url, json={"surviving_household_id": str(existing.id), "merge": "all"}, headers=headers
        )
    assert stranger.status_code == 422
    assert stranger.json()["errors"][0]["field"] == "surviving_household_id"
    assert wrong_member.status_code == 422
    assert wrong_member.json()["errors"][0]["field"] == "identical_members.0.member_id"
    assert unknown_field.status_code == 422
    assert await count(app, DuplicateCandidate, DuplicateCandidate.status == "suspected") == 1
    assert await count(app, Household, Household.status == "dissolved") == 0
    assert await count(app, RecordChange) == 0


async def test_a_pair_with_a_closed_household_cannot_be_merged(app, pair, infrastructure):
    existing, newer, candidate = pair
    async with rows(infrastructure) as session:
        household = await session.get(Household, existing.id)
        household.status = "dissolved"
    async with client_for(app, DMK_SEN_SOK, audience="registry") as client:
        response = await client.post(
            f"/duplicates/{candidate.id}/confirm",
            json={"surviving_household_id": str(newer.id)},
            headers={"If-Match": '"1"'},
        )
    assert response.status_code == 409


# -- registration flags duplicates ---------------------------------------------------------


REGISTRATION = {
    "village_code": VILLAGE_PHNOM_PENH_THMEI,
    "address": "Street 1",
    "members": [
        {
            "family_name_km": "សុខ",
            "given_name_km": "ចាន់ថា",
            "family_name_latin": "Sok",
            "given_name_latin": "Chantha",
            "sex": "female",
            "birth_date": "1985-03-14",
            "relationship": "head",
        }
    ],
}


async def test_registering_a_likely_duplicate_creates_it_and_flags_it(app, infrastructure):
    async with rows(infrastructure) as session:
        existing = await make_household(session)
    async with client_for(app, CS_PHNOM_PENH_THMEI, audience="registry") as client:
        created = await client.post("/households", json=REGISTRATION)
        assert created.status_code == 201, created.text
        household_id = created.json()["id"]
        flagged = await client.get(f"/households/{household_id}/duplicates")
    assert created.json()["status"] == "pending_verification"
    [candidate] = flagged.json()["items"]
    assert candidate["household_id"] == household_id
    assert candidate["other_household_id"] == str(existing.id)
    assert "latin_name_birth_commune" in candidate["reasons"]


async def test_the_review_queue_through_the_gateway(platform, infrastructure, clean_databases):
    async with rows(infrastructure) as session:
        existing = await make_household(session, members=[member(national_id="777888999")])
        newer = await make_household(
            session, status="pending_verification", members=[member(national_id="777888999")]
        )
    [candidate] = await flag(infrastructure, newer)
    async with platform.client("dmk.sen-sok") as dmk:
        listed = await dmk.get("/registry/duplicates")
    async with platform.client("cs.tuek-thla") as sibling:
        hidden = await sibling.get(f"/registry/duplicates/{candidate.id}")
    async with platform.client("cs.phnom-penh-thmei") as cs:
        refused = await cs.post(
            f"/registry/duplicates/{candidate.id}/dismiss",
            json={"reason": "x"},
            headers={"If-Match": '"1"'},
        )
    async with platform.client("client:moh-health-equity") as machine:
        machine_refused = await machine.get("/registry/duplicates")
    async with platform.client("dmk.sen-sok") as dmk:
        confirmed = await dmk.post(
            f"/registry/duplicates/{candidate.id}/confirm",
            json={"surviving_household_id": str(existing.id)},
            headers={"If-Match": '"1"'},
        )
    assert [i["id"] for i in listed.json()["items"]] == [str(candidate.id)]
    assert hidden.status_code == 404
    assert refused.status_code == 403  # the gateway: commune officers do not decide
    assert machine_refused.status_code == 403
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "confirmed"
