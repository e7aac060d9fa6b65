"""A late subscriber catches up: it reads the household snapshot page by page while the
communes keep registering and correcting, then follows the household and member topics from
the snapshot's position, and its read model equals the registry's database exactly.

Everything is real: the registry process of `platform` (its relay publishes to the real
broker), its PostgreSQL, the gateway with the real policy. The subscriber below does what the
README's "Catching up a new subscriber" tells an integrator to do.
"""

from __future__ import annotations

import asyncio
import uuid

from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import text

from shared.events.catalog.registry import HouseholdEvent, MemberEvent
from tests.harness import envelopes, wait_for
from tests.registry.factories import VILLAGE_PHNOM_PENH_THMEI, VILLAGE_TUEK_THLA, RegistryRows
from tests.registry.test_households import household_body, person

TOPICS = sorted({HouseholdEvent.topic(), MemberEvent.topic()})
SNAPSHOT = "/registry/snapshots/households"


# --- the subscriber -------------------------------------------------------------------------


class HouseholdReadModel:
    """An integrator's read model of households and their members, built only from the
    snapshot and the events (the fields of `HouseholdState`)."""

    def __init__(self) -> None:
        self.households: dict[str, dict] = {}
        self.member_of: dict[str, str] = {}

    def load(self, state: dict) -> None:
        self.households[state["household_id"]] = {**state, "member_ids": set()}
        for member_id in state["member_ids"]:
            self._place(member_id, state["household_id"])

    def _place(self, member_id: str, household_id: str | None) -> None:
        former = self.member_of.pop(member_id, None)
        if former is not None:
            self.households[former]["member_ids"].discard(member_id)
        if household_id is not None:
            self.member_of[member_id] = household_id
            self.households[household_id]["member_ids"].add(member_id)

    def apply(self, envelope: dict) -> None:
        data, kind = envelope["data"], envelope["type"].split(".")[-2]
        aggregate = envelope["type"].split(".")[-3]
        if aggregate == "household":
            household = self.households.setdefault(
                data["household_id"], {"poverty_level": "UNASSESSED", "member_ids": set()}
            )
            household.update(
                household_id=data["household_id"],
                household_code=data["household_code"],
                village_code=data["village_code"],
                status=data["status"],
                record_version=data["record_version"],
            )
            if kind == "registered":
                for member in data["members"]:
                    self._place(member["member_id"], data["household_id"])
            if kind == "poverty_status_changed":
                household["poverty_level"] = data["level"]
        elif kind in ("added", "updated"):  # updated: its household_id is where it is now
            self._place(data["member_id"], data["household_id"])
        elif kind == "removed":
            self._place(data["member_id"], None)

    def rows(self) -> dict[str, dict]:
        return {
            hid: {**h, "member_ids": sorted(h["member_ids"])} for hid, h in self.households.items()
        }


async def end_offsets(bootstrap: str, topics: list[str] = TOPICS) -> dict[TopicPartition, int]:
    """Where the topics end now: the subscriber's topic starts here (earlier tests' events on
    the shared broker play the part of what retention has already removed)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await consumer.start()
    try:
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            for p in (consumer.partitions_for_topic(topic) or ())
        ]
        return await consumer.end_offsets(partitions) if partitions else {}
    finally:
        await consumer.stop()


async def events_from(
    bootstrap: str,
    start: dict[TopicPartition, int],
    *,
    until: set[str],
    topics: list[str] = TOPICS,
    timeout: float = 30,
) -> dict[str, dict]:
    """The envelopes of `topics` from `start` (a partition not there: its beginning), by id,
    read until every id of `until` is among them."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await consumer.start()
    found: dict[str, dict] = {}
    try:
        await consumer._client.force_metadata_update()
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        consumer.assign(partitions)
        for tp in partitions:
            if tp in start:
                consumer.seek(tp, start[tp])
            else:
                await consumer.seek_to_beginning(tp)
        deadline = asyncio.get_running_loop().time() + timeout
        while not until <= set(found):
            assert asyncio.get_running_loop().time() < deadline, "events missing on the topics"
            batch = await consumer.getmany(timeout_ms=200)
            for records in batch.values():
                for event in envelopes(records):
                    found[event["id"]] = event
        return found
    finally:
        await consumer.stop()


# --- the registry's side --------------------------------------------------------------------


def quiet_body(village_code: str, *names: str) -> dict:
    """A household without national IDs or phones (no duplicate flags between households)."""
    members = [person(given_name_latin=names[0], given_name_km="ចាន់ថា")]
    members += [
        person("child", given_name_latin=name, birth_date="2015-05-05", sex="male")
        for name in names[1:]
    ]
    return household_body(village_code=village_code, members=members)


async def register(commune, village_code: str, *names: str) -> dict:
    response = await commune.post(
        "/registry/households",
        json=quiet_body(village_code, *names),
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert response.status_code == 201, response.text
    return response.json()


async def database_rows(infrastructure) -> dict[str, dict]:
    async with RegistryRows(infrastructure.database_url("registry")) as session:
        rows = await session.execute(
            text(
                "SELECT h.id::text AS household_id, h.code AS household_code, h.village_code, "
                "h.status, h.version AS record_version, h.poverty_level, "
                "coalesce((SELECT array_agg(m.id::text ORDER BY m.id::text) FROM member m "
                "WHERE m.household_id = h.id AND m.status = 'active'), '{}') AS member_ids "
                "FROM household h"
            )
        )
        return {r.household_id: {**r._mapping, "member_ids": list(r.member_ids)} for r in rows}


async def published_event_ids(infrastructure) -> set[str]:
    """Every household and member event the registry wrote, once its relay published all."""

    async def all_published() -> set[str] | None:
        async with RegistryRows(infrastructure.database_url("registry")) as session:
            rows = (
                await session.execute(
                    text("SELECT id::text, published_at FROM outbox WHERE topic = ANY(:topics)"),
                    {"topics": TOPICS},
                )
            ).all()
        if any(published_at is None for _, published_at in rows):
            return None
        return {event_id for event_id, _ in rows}

    return await wait_for(all_published, timeout=60)


async def test_a_new_subscriber_rebuilds_households_from_snapshot_and_topics_exactly(
    platform, infrastructure, clean_databases
):
    start = await end_offsets(infrastructure.bootstrap_servers)
    async with (
        platform.client("cs.phnom-penh-thmei") as commune,
        platform.client("cs.tuek-thla") as sibling,
        platform.client("dmk.sen-sok") as district,
        platform.client("client:sp-read-model") as subscriber,
    ):
        first = await register(commune, VILLAGE_PHNOM_PENH_THMEI, "Chantha", "Dara")
        for n in range(4):
            await register(sibling, VILLAGE_TUEK_THLA, "Sophea " + "ABCD"[n], "Vibol " + "ABCD"[n])

        # The subscriber reads two households a page, while the communes work in between.
        model, positions, cursor, pages = HouseholdReadModel(), [], None, 0
        while True:
            params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            response = await subscriber.get(SNAPSHOT, params=params)
            assert response.status_code == 200, response.text
            page = response.json()
            assert page["topics"] == TOPICS
            positions.append(page["position"])
            for state in page["items"]:
                model.load(state)
            pages += 1
            if pages == 1:
                added = await commune.post(
                    f"/registry/households/{first['id']}/members",
                    json=person("child", given_name_latin="Bopha", birth_date="2018-02-02"),
                    headers={"If-Match": f'"{first["version"]}"'},
                )
                assert added.status_code == 201, added.text
                await register(commune, VILLAGE_PHNOM_PENH_THMEI, "Late", "Comer")
            if pages == 2:
                current = await commune.get(f"/registry/households/{first['id']}")
                removed_id = next(
                    m["id"] for m in current.json()["members"] if m["given_name_latin"] == "Dara"
                )
                removed = await commune.post(
                    f"/registry/households/{first['id']}/members/{removed_id}/remove",
                    json={"reason": "moved_out"},
                    headers={"If-Match": current.headers["etag"]},
                )
                assert removed.status_code == 200, removed.text
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert pages >= 3, "the writes happened between pages"

        # After the snapshot too: a verification and one more registration.
        current = await commune.get(f"/registry/households/{first['id']}")
        verified = await district.post(
            f"/registry/households/{first['id']}/verify",
            headers={"If-Match": current.headers["etag"]},
        )
        assert verified.status_code == 200, verified.text
        await register(sibling, VILLAGE_TUEK_THLA, "Last", "One")

    # Follow the topics from where they stood when the subscriber started.
    expected_ids = await published_event_ids(infrastructure)
    found = await events_from(infrastructure.bootstrap_servers, start, until=expected_ids)

    position = min(positions)
    # Only this database's events: the shared broker also carries late publications of
    # earlier tests, whose outboxes were emptied and numbered again from 1.
    replay = sorted(
        (e for e in found.values() if e["sequence"] > position and e["id"] in expected_ids),
        key=lambda e: e["sequence"],
    )
    assert replay, "some events came after the snapshot's position"
    for event in replay:
        model.apply(event)

    assert model.rows() == await database_rows(infrastructure)


async def test_the_snapshot_is_for_national_staff_and_clients_with_the_scope(
    platform, clean_databases
):
    async with platform.client("cs.phnom-penh-thmei") as commune:
        await register(commune, VILLAGE_PHNOM_PENH_THMEI, "Chantha", "Dara")
    expected = {
        "national.officer": 200,
        "client:sp-read-model": 200,
        "dmk.sen-sok": 403,
        "cs.phnom-penh-thmei": 403,
        "client:moh-health-equity": 403,
        "client:partner-without-scope": 403,
        "anonymous": 401,
    }
    answers = {}
    for caller in expected:
        async with platform.client(caller) as client:
            response = await client.get(SNAPSHOT)
            answers[caller] = response.status_code
            if response.status_code == 200:
                [household] = response.json()["items"]
                assert set(household) == {
                    "household_id",
                    "household_code",
                    "village_code",
                    "status",
                    "record_version",
                    "poverty_level",
                    "member_ids",
                }, "state only: no names or personal data"
                assert len(household["member_ids"]) == 2
    assert answers == expected
