"""Whole-platform scenarios: every step through the gateway, as the people of each tier and
the systems around the platform use it (tokens of the development issuer's demo people), on
the four services as real processes with their relays and consumers on the real broker.

1. The registry: a commune registers a household, the district verifies it, it is enrolled and
   paid; the sibling commune and another province see nothing of it; an integrator reading the
   registry's topics receives every event about it, in order.
2. A grievance: a citizen complains anonymously that an eligible household was left out, the
   commune's deadline passes, the grievance escalates to the district, the district upholds it,
   the registry opens a reassessment case, and the citizen reads the answer by tracking code.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.grievance.sla.scheduler import SlaScheduler
from shared.clock import ManualClock, today
from shared.db.engine import Database
from tests.harness import envelopes, read_topic, wait_for
from tests.registry.test_journey import family_with_a_baby

OUTSIDERS = ("cs.tuek-thla", "cp.banteay-meanchey")  # the sibling commune, another province


async def register_and_verify(platform, *, key: str) -> dict:
    async with platform.client("cs.phnom-penh-thmei") as commune:
        created = await commune.post(
            "/registry/households", json=family_with_a_baby(), headers={"Idempotency-Key": key}
        )
        assert created.status_code == 201, created.text
        household = created.json()
        etag = (await commune.get(f"/registry/households/{household['id']}")).headers["etag"]
    async with platform.client("dmk.sen-sok") as district:
        verified = await district.post(
            f"/registry/households/{household['id']}/verify", headers={"If-Match": etag}
        )
        assert verified.status_code == 200, verified.text
        assert verified.json()["status"] == "active"
    return household


def in_order_about(records: list, subject: str) -> list[dict]:
    """The integrator's view: the events about `subject` in the order its partition holds them."""
    ordered = sorted(records, key=lambda r: (r.partition, r.offset))
    return [e for e in envelopes(ordered) if e.get("subject") == subject]


async def test_registered_verified_enrolled_paid_seen_only_in_its_area_and_by_the_integrator(
    platform, infrastructure, clean_databases
):
    household = await register_and_verify(platform, key="e2e-registry-1")
    url = f"/registry/households/{household['id']}"

    async with platform.client("cs.phnom-penh-thmei") as commune:
        proposed = await commune.post(
            "/registry/enrolments",
            json={"household_id": household["id"], "programme_code": "FAMILY_PACKAGE"},
        )
        assert proposed.status_code == 201, proposed.text
        enrolment = proposed.json()
    async with platform.client("dmk.sen-sok") as district:
        approved = await district.post(
            f"/registry/enrolments/{enrolment['id']}/approve",
            headers={"If-Match": f'"{enrolment["version"]}"'},
        )
        assert approved.status_code == 200, approved.text
        assert approved.json()["status"] == "enrolled"
    paid_on = today()
    async with platform.client("cs.phnom-penh-thmei") as commune:
        paid = await commune.post(
            f"/registry/enrolments/{enrolment['id']}/benefits",
            json={
                "period": paid_on.strftime("%Y-%m"),
                "amount_khr": 80_000,
                "channel": "cash_wing",
                "status": "paid",
                "delivered_on": paid_on.isoformat(),
            },
        )
        assert paid.status_code == 201, paid.text
        benefit = paid.json()

    # The commune's province and the country see it; the sibling commune and another
    # province learn nothing, not even that it exists.
    for insider in ("cp.phnom-penh", "national.officer"):
        async with platform.client(insider) as client:
            assert (await client.get(url)).status_code == 200, insider
    for outsider in OUTSIDERS:
        async with platform.client(outsider) as client:
            assert (await client.get(url)).status_code == 404, outsider
            assert (await client.get(f"/registry/enrolments/{enrolment['id']}")).status_code == 404
            assert (await client.get(f"/registry/benefits/{benefit['id']}")).status_code == 404
            listing = (await client.get("/registry/households")).json()["items"]
            assert household["id"] not in {h["id"] for h in listing}, outsider

    # An integrator's consumer reads the registry's topics: every event about each record,
    # once, in the order they happened (`sequence` increases along the partition).
    expected = {
        ("sp.registry.household", household["id"]): [
            "kh.gov.sp.registry.household.registered.v1",
            "kh.gov.sp.registry.household.poverty_status_changed.v1",
            "kh.gov.sp.registry.household.verified.v1",
        ],
        ("sp.registry.enrolment", enrolment["id"]): [
            "kh.gov.sp.registry.enrolment.proposed.v1",
            "kh.gov.sp.registry.enrolment.enrolled.v1",
        ],
        ("sp.registry.benefit", benefit["id"]): ["kh.gov.sp.registry.benefit.recorded.v1"],
    }
    for (topic, subject), types in expected.items():
        records = await read_topic(
            infrastructure.bootstrap_servers,
            topic,
            until=lambda rs, s=subject, n=len(types): len(in_order_about(rs, s)) >= n,
        )
        events = in_order_about(records, subject)
        assert len({e["id"] for e in events}) == len(events) == len(types), topic
        assert sorted(e["type"] for e in events) == sorted(types), topic
        assert events[0]["type"] == types[0] and events[-1]["type"] == types[-1], topic
        sequences = [e["sequence"] for e in events]
        assert sequences == sorted(sequences), f"{topic}: out of order"
        assert all(e["jurisdiction"] == "12080102" for e in events)


async def test_an_anonymous_complaint_escalates_is_upheld_and_opens_a_reassessment(
    platform, infrastructure, clean_databases
):
    household = await register_and_verify(platform, key="e2e-grievance-1")
    async with platform.client("cs.phnom-penh-thmei") as commune:
        eligibility = await commune.get(f"/registry/households/{household['id']}/eligibility")
        assert any(p["eligible"] for p in eligibility.json()["programmes"]), eligibility.text

    async with platform.client("anonymous", client_ip="203.0.113.90") as citizen:
        submitted = await citizen.post(
            "/grievance/public/grievances",
            json={
                "category": "exclusion_error",
                "description": "We are eligible but were left out of the Family Package.",
                "location_code": "120801",
                "anonymous": True,
                "household_code": household["code"],
            },
        )
        assert submitted.status_code == 201, submitted.text
    code = submitted.json()["tracking_code"]

    async with platform.client("cs.phnom-penh-thmei") as commune:
        # Linked to the household at once, or when the registry's event reaches the grievance
        # service if the complaint came first (late link).
        async def linked_in_worklist():
            items = (await commune.get("/grievance/worklists/assigned")).json()["items"]
            found = next((g for g in items if g["tracking_code"] == code), None)
            return found if found and found["household_id"] else None

        grievance = await wait_for(linked_in_worklist, timeout=30)
        assert grievance["household_id"] == household["id"]
        acknowledged = await commune.post(
            f"/grievance/grievances/{grievance['id']}/acknowledge",
            json={"public_message": "We received your complaint."},
            headers={"If-Match": f'"{grievance["version"]}"'},
        )
        assert acknowledged.status_code == 200, acknowledged.text

    # The commune's deadline passes: the grievance service's SLA pass, on a clock 16 days on
    # (the platform's processes run on the real clock), escalates it to the district.
    database = Database(infrastructure.database_url("grievance"))
    try:
        scheduler = SlaScheduler(database, ManualClock(datetime.now(UTC) + timedelta(days=16)))

        async def escalated():
            result = await scheduler.run_pass()  # None while the platform's instance holds it
            return result is not None and result.escalated >= 1

        await wait_for(escalated, timeout=15)
    finally:
        await database.dispose()

    path = f"/grievance/grievances/{grievance['id']}"
    async with platform.client("dmk.sen-sok") as district:
        current = await district.get(path)
        assert current.json()["handling_admin_code"] == "1208"
        upheld = await district.post(
            f"{path}/resolve",
            json={
                "decision": "upheld",
                # What the citizen reads through the tracking code.
                "resolution_summary": "Your household will be reassessed for the Family Package.",
            },
            headers={"If-Match": current.headers["etag"]},
        )
        assert upheld.status_code == 200, upheld.text

        # The registry hears of it and opens one reassessment case on the household.
        async def reassessment():
            listing = await district.get(
                "/registry/cases", params={"household_id": household["id"]}
            )
            return listing.json()["items"] or None

        [case] = await wait_for(reassessment, timeout=30)
    assert case["case_type"] == "reassessment"
    assert case["origin"] == f"grievance:{grievance['id']}"

    for outsider in OUTSIDERS:
        async with platform.client(outsider) as client:
            assert (await client.get(path)).status_code == 404, outsider
            assert (await client.get(f"/registry/cases/{case['id']}")).status_code == 404

    async with platform.client("anonymous", client_ip="203.0.113.90") as citizen:
        answer = await citizen.get(f"/grievance/public/grievances/{code}")
    assert answer.status_code == 200
    body = answer.json()
    assert (body["status"], body["decision"]) == ("resolved", "upheld")
    assert [e["kind"] for e in body["timeline"]] == [
        "submitted",
        "acknowledged",
        "escalated",
        "resolved",
    ]
    assert "reassessed" in str(body), "the citizen reads the district's answer"
    assert household["code"] not in str(body), "the public view names no household"
