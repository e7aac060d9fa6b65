"""The grievance -> registry flow: a resolved grievance that calls for a reassessment opens one
reassessment case on the household, whatever the broker redelivers; other outcomes and
unknown households open nothing and do not stop consumption.

The events are real CloudEvents put on the real broker; the registry process of the
`platform` fixture consumes them.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from shared.clock import today
from shared.events.catalog.grievance import GrievanceResolved
from shared.events.envelope import CloudEvent, encode, format_sequence
from tests.harness import produce, wait_for
from tests.registry.factories import (
    VILLAGE_PHNOM_PENH_THMEI,
    VILLAGE_TUEK_THLA,
    RegistryRows,
    make_household,
    member,
)

TOPIC = GrievanceResolved.topic()


def resolved(household_id, **fields) -> GrievanceResolved:
    values = {
        "grievance_id": uuid.uuid4(),
        "category": "exclusion_error",
        "location_code": "120801",
        "handling_admin_code": "120801",
        "handling_tier": "cs",
        "decision": "upheld",
        "household_id": household_id,
        "member_id": None,
        "programme_code": "FAMILY_PACKAGE",
        "resolution_summary": "The household was wrongly left out; it will be reassessed.",
        "resolved_at": datetime.now(UTC),
        "reassessment_requested": True,
    }
    values.update(fields)
    return GrievanceResolved(**values)


def envelope(event: GrievanceResolved, *, event_id: uuid.UUID | None = None) -> CloudEvent:
    """What the grievance service's outbox relay puts on the topic for this event."""
    return CloudEvent(
        id=str(event_id or uuid.uuid4()),
        source=GrievanceResolved.source(),
        type=GrievanceResolved.event_type(),
        subject=str(event.grievance_id),
        time=datetime.now(UTC),
        dataschema=GrievanceResolved.dataschema(),
        data=event.model_dump(mode="json"),
        jurisdiction=event.location_code,
        sequence=format_sequence(1),
    )


async def publish(infrastructure, cloud_event: CloudEvent, *, key: str | None = None) -> None:
    # One key for a test's events keeps them on one partition, so they are consumed in order.
    await produce(
        infrastructure.bootstrap_servers,
        TOPIC,
        encode(cloud_event),
        key=(key or cloud_event.subject).encode(),
    )


async def household_in(infrastructure, village_code=VILLAGE_PHNOM_PENH_THMEI):
    async with RegistryRows(infrastructure.database_url("registry")) as session:
        return await make_household(
            session,
            village_code=village_code,
            members=[member(), member(relationship="child", given_name_latin="Dara")],
        )


async def cases_from(infrastructure, origin: str) -> list[dict]:
    async with RegistryRows(infrastructure.database_url("registry")) as session:
        rows = await session.execute(
            text(
                "SELECT c.*, (SELECT array_agg(n.text ORDER BY n.id) FROM case_note n "
                "WHERE n.case_id = c.id) AS notes FROM case_file c WHERE origin = :origin"
            ),
            {"origin": origin},
        )
        return [dict(r._mapping) for r in rows]


async def test_an_upheld_exclusion_grievance_opens_one_reassessment_case(
    platform, infrastructure, clean_databases
):
    household = await household_in(infrastructure)
    async with RegistryRows(infrastructure.database_url("registry")) as session:
        child = (
            await session.execute(
                text("SELECT id FROM member WHERE household_id = :h AND relationship = 'child'"),
                {"h": household.id},
            )
        ).scalar_one()
    event = resolved(household.id, member_id=child)
    first = envelope(event)
    await publish(infrastructure, first)

    origin = f"grievance:{event.grievance_id}"
    [case] = await wait_for(lambda: cases_from(infrastructure, origin), timeout=60)
    assert case["case_type"] == "reassessment" and case["status"] == "open"
    assert case["household_id"] == household.id and case["member_id"] == child
    assert case["village_code"] == VILLAGE_PHNOM_PENH_THMEI
    assert case["assigned_admin_code"] == "120801" and case["assigned_tier"] == "cs"
    assert case["due_on"] == today() + timedelta(days=30)  # REGISTRY_REASSESSMENT_DUE_DAYS
    assert case["opened_by"] == "service:grievance"
    assert case["notes"] == [f"Grievance resolution: {event.resolution_summary}"]

    # The broker redelivers the same event, and the grievance service (say, after a reopening
    # and a second resolution) sends another event about the same grievance...
    await publish(infrastructure, first)
    await publish(infrastructure, envelope(event), key=first.subject)
    # ...then an event for another household, on the same partition: once its case exists,
    # the two before it have been handled.
    other = await household_in(infrastructure)
    marker = resolved(other.id, category="data_correction", decision="partly_upheld")
    await publish(infrastructure, envelope(marker), key=first.subject)
    await wait_for(
        lambda: cases_from(infrastructure, f"grievance:{marker.grievance_id}"), timeout=30
    )

    assert len(await cases_from(infrastructure, origin)) == 1

    # Staff see it in the commune's worklist through the gateway.
    async with platform.client("cs.phnom-penh-thmei") as client:
        worklist = await client.get(
            "/registry/cases",
            params={"case_type": "reassessment", "household_id": str(household.id)},
        )
    [listed] = worklist.json()["items"]
    assert listed["origin"] == origin and listed["id"] == str(case["id"])


async def test_other_outcomes_and_unknown_households_open_nothing_and_do_not_block(
    platform, infrastructure, clean_databases
):
    household = await household_in(infrastructure, VILLAGE_TUEK_THLA)
    key = str(uuid.uuid4())
    not_upheld = resolved(household.id, decision="not_upheld", reassessment_requested=False)
    other_category = resolved(
        household.id, category="fraud_corruption", reassessment_requested=False
    )
    no_household = resolved(None, reassessment_requested=False)
    unknown_household = resolved(uuid.uuid4())
    # The grievance service's flag is what counts, but its rule also holds without it.
    by_rule = resolved(household.id, category="data_correction", reassessment_requested=False)
    for event in (not_upheld, other_category, no_household, unknown_household, by_rule):
        await publish(infrastructure, envelope(event), key=key)

    [case] = await wait_for(
        lambda: cases_from(infrastructure, f"grievance:{by_rule.grievance_id}"), timeout=60
    )
    assert case["assigned_admin_code"] == "120802"  # the household's own commune
    for event in (not_upheld, other_category, no_household, unknown_household):
        assert await cases_from(infrastructure, f"grievance:{event.grievance_id}") == []
    async with RegistryRows(infrastructure.database_url("registry")) as session:
        handled = (
            await session.execute(
                text("SELECT count(*) FROM inbox WHERE consumer = 'registry.grievance-outcomes'")
            )
        ).scalar_one()
    assert handled == 5  # each one handled once, none left to retry
