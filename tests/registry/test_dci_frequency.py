"""A DCI subscription's notification frequency: the window and cron schedule of the spec's
EventFrequency, notifications held until the fire time and sent there as one message."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from services.registry.dci import service
from services.registry.dci.models import DciDelivery, DciSubscription
from services.registry.dci.schedule import FrequencyError, NotifySchedule
from shared.clock import CAMBODIA
from tests.harness import client_for, wait_for
from tests.registry.dci_support import (
    ALLOW_TEST_CALLBACKS,
    DCI_CLIENT,
    Receiver,
    in_phnom_penh,
    subscribe_message,
)
from tests.registry.factories import RegistryRows, make_household

pytestmark = ALLOW_TEST_CALLBACKS

WINDOW = {"start_time": "2026-11-01T00:00:00+07:00", "end_time": "2027-11-01T00:00:00+07:00"}


def ict(*args: int) -> datetime:
    return datetime(*args, tzinfo=CAMBODIA)


# -- the schedule ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "after", "fires"),
    [
        # The spec's example: midnight on the 5th and the 15th.
        ("0 0 0 5,15 * ? *", ict(2026, 11, 21, 10), ict(2026, 12, 5)),
        ("0 0 0 5,15 * ? *", ict(2026, 12, 5), ict(2026, 12, 15)),
        # Quartz counts days of the week from Sunday = 1: 2 is Monday (23 November 2026).
        ("0 15 10 ? * 2", ict(2026, 11, 21, 10), ict(2026, 11, 23, 10, 15)),
        ("0 15 10 ? * MON-FRI", ict(2026, 11, 21, 10), ict(2026, 11, 23, 10, 15)),
        ("0 0 8 ? * 1", ict(2026, 11, 21, 10), ict(2026, 11, 22, 8)),  # Sunday
        ("0 0 8 ? * 7", ict(2026, 11, 20, 10), ict(2026, 11, 21, 8)),  # Saturday
        ("0 0/30 * * * ?", ict(2026, 11, 21, 10, 1), ict(2026, 11, 21, 10, 30)),
        ("30 0 12 1 JAN ? 2027", ict(2026, 11, 21), ict(2027, 1, 1, 12, 0, 30)),
    ],
)
def test_the_next_fire_time_reads_the_expression_as_quartz_does(expression, after, fires):
    window = {"start_time": "2026-01-01T00:00:00Z", "end_time": "2028-01-01T00:00:00Z"}
    schedule = NotifySchedule.parse({**window, "frequency": expression})
    assert schedule.send_at(after) == fires


def test_fire_times_are_cambodian_whatever_zone_the_event_came_in():
    schedule = NotifySchedule.parse({**WINDOW, "frequency": "0 0 0 5,15 * ? *"})
    assert schedule.send_at(datetime(2026, 12, 4, 16, 59, tzinfo=UTC)) == ict(2026, 12, 5)
    assert schedule.send_at(datetime(2026, 12, 4, 17, 0, tzinfo=UTC)) == ict(2026, 12, 15)


def test_the_window_bounds_what_is_notified_and_its_end_sends_what_is_held():
    schedule = NotifySchedule.parse({**WINDOW, "frequency": "0 0 0 5,15 * ? *"})
    assert not schedule.covers(ict(2026, 10, 31, 23, 59))
    assert schedule.covers(ict(2026, 11, 1))
    assert not schedule.covers(ict(2027, 11, 1, 0, 0, 1))
    # The next fire time (5 November 2027) is after the window: sent when it closes.
    assert schedule.send_at(ict(2027, 10, 20)) == ict(2027, 11, 1)


@pytest.mark.parametrize(
    ("frequency", "field"),
    [
        ("not an object", "frequency"),
        ({"end_time": WINDOW["end_time"], "frequency": "0 0 0 * * ?"}, "frequency.start_time"),
        ({**WINDOW, "start_time": "2026-11-01T00:00:00"}, "frequency.start_time"),
        ({**WINDOW, "end_time": "next year"}, "frequency.end_time"),
        ({**WINDOW, "end_time": "2026-10-01T00:00:00+07:00"}, "frequency.end_time"),
        (WINDOW, "frequency.frequency"),
        ({**WINDOW, "frequency": "0 0 5,15 * *"}, "frequency.frequency"),  # five fields
        ({**WINDOW, "frequency": "0 0 0 5 * 2"}, "frequency.frequency"),  # both day fields
        ({**WINDOW, "frequency": "0 0 0 L * ?"}, "frequency.frequency: day of month"),
        ({**WINDOW, "frequency": "0 0 0 15W * ?"}, "frequency.frequency: day of month"),
        ({**WINDOW, "frequency": "0 0 0 ? * 6#3"}, "frequency.frequency: day of week"),
        ({**WINDOW, "frequency": "0 0 0 ? * 8"}, "frequency.frequency: day of week"),
        ({**WINDOW, "frequency": "0 0 24 * * ?"}, "frequency.frequency: hours"),
        ({**WINDOW, "frequency": "0 ? 0 * * ?"}, "frequency.frequency: minutes"),
        ({**WINDOW, "frequency": "0 0/0 0 * * ?"}, "frequency.frequency: minutes"),
        ({**WINDOW, "frequency": "0 0 0 * FOO ?"}, "frequency.frequency: month"),
    ],
)
def test_a_frequency_that_does_not_read_is_refused_naming_the_field(frequency, field):
    with pytest.raises(FrequencyError) as refused:
        NotifySchedule.parse(frequency)
    assert str(refused.value).startswith(f"{field}:")


# -- subscribing and notifying -----------------------------------------------------------------


async def subscribed(app, receiver: Receiver, frequency) -> dict:
    async with client_for(app, DCI_CLIENT, audience="registry") as client:
        ack = await client.post(
            "/dci/registry/subscribe",
            json=subscribe_message(
                receiver,
                {
                    "reg_event_type": "UPDATE",
                    "notify_record_type": "Group",
                    "filter_type": "predicate",
                    "filter": in_phnom_penh(),
                    "frequency": frequency,
                },
                reference_id="fortnightly",
            ),
        )
    assert ack.json()["message"]["ack_status"] == "ACK", ack.text
    await wait_for(lambda: receiver.received, timeout=15)
    [answer] = receiver.received.pop(0)["body"]["message"]["subscribe_response"]
    return answer


async def test_a_subscription_with_a_frequency_keeps_it(app):
    async with Receiver() as receiver:
        answer = await subscribed(app, receiver, {**WINDOW, "frequency": "  0 0 0 5,15 * ? *  "})
    assert answer["status"] == "succ"
    [subscription] = answer["subscriptions"]
    assert subscription["frequency"] == {
        "start_time": "2026-11-01T00:00:00+07:00",
        "end_time": "2027-11-01T00:00:00+07:00",
        "frequency": "0 0 0 5,15 * ? *",
    }


async def test_a_frequency_that_does_not_read_is_rejected_and_nothing_is_stored(app):
    async with Receiver() as receiver:
        answer = await subscribed(app, receiver, {**WINDOW, "frequency": "0 0 0 L * ?"})
    assert answer["status"] == "rjct"
    assert answer["status_reason_code"] == "rjct.notify_details.invalid"
    assert answer["status_reason_message"].startswith("frequency.frequency: day of month")
    async with app.state.database.transaction() as session:
        assert (await session.scalars(select(DciSubscription))).all() == []


# The scenario's year lies well past any real date: the test's registry judges what is due by
# its own (manual) clock, but the suite's registry processes (the `platform` fixture) run on
# the real clock and poll the same table, so none of them may find these notifications due,
# even with the whole suite run a year ahead (make test-clock-ahead).
YEAR = date.today().year + 3


@pytest.mark.registry_clock(ict(YEAR, 11, 28, 12))
async def test_notifications_wait_for_the_fire_time_and_go_out_together(app, infrastructure):
    """Events inside the window are held until the schedule's next fire time and sent there
    as one message; an event before the window is not notified. The registry's clock stands a
    week before the first fire time (5 December), then reaches it: only that batch goes out."""
    async with RegistryRows(infrastructure.database_url("registry")) as session:
        first = await make_household(session)
        second = await make_household(session)
    window = {
        "start_time": ict(YEAR, 11, 1).isoformat(),
        "end_time": ict(YEAR + 1, 11, 1).isoformat(),
        "frequency": "0 0 0 5,15 * ? *",
    }
    async with Receiver() as receiver:
        await subscribed(app, receiver, window)

        async def event(household, event_id: str, occurred_at: datetime) -> int:
            async with app.state.database.transaction() as session:
                return await service.notify_subscribers(
                    session,
                    reg_event_type="UPDATE",
                    household_id=household.id,
                    member_id=None,
                    event_id=event_id,
                    occurred_at=occurred_at,
                )

        queued = [
            await event(first, "test/before-the-window", ict(YEAR, 10, 20)),
            await event(first, "test/1", ict(YEAR, 11, 21, 10)),
            await event(second, "test/2", ict(YEAR, 11, 25, 9)),
            await event(second, "test/3", ict(YEAR, 12, 6, 9)),
        ]
        assert queued == [0, 1, 1, 1]
        notifications = (
            select(DciDelivery).where(DciDelivery.kind == "notify").order_by(DciDelivery.id)
        )
        async with app.state.database.transaction() as session:
            held = (await session.scalars(notifications)).all()

        async def statuses() -> list[str]:
            async with app.state.database.transaction() as session:
                return [d.status for d in (await session.scalars(notifications)).all()]

        assert [(d.event_id, d.status, d.next_attempt_at) for d in held] == [
            ("test/1", "pending", ict(YEAR, 12, 5)),
            ("test/2", "pending", ict(YEAR, 12, 5)),
            ("test/3", "pending", ict(YEAR, 12, 15)),
        ]
        assert len({d.batch_key for d in held}) == 2
        # The worker polls twice a second: a full second before the fire time sends nothing.
        app.state.dci_worker.wake.set()
        await asyncio.sleep(1)
        assert receiver.received == []
        assert await statuses() == ["pending", "pending", "pending"]

        app.state.clock.set(ict(YEAR, 12, 5, 0, 0, 1))
        app.state.dci_worker.wake.set()

        after: list[str] = []

        async def sent() -> bool:
            after[:] = await statuses()
            return after[:2] == ["delivered", "delivered"]

        await wait_for(sent, timeout=15)

    [message] = receiver.received
    assert message["path"] == "/cb/notify"
    body = message["body"]
    assert body["header"]["action"] == "notify"
    assert body["header"]["total_count"] == body["header"]["completed_count"] == 2
    assert body["header"]["meta"]["event_ids"] == ["test/1", "test/2"]
    records = [
        e["data"]["reg_records"][0]["group_identifier"][0]["identifier_value"]
        for e in body["message"]["notify_event"]
    ]
    assert records == [first.code, second.code]
    assert after == ["delivered", "delivered", "pending"]
