"""The service the fault tests break: built from the platform library alone, as every service is.

Its relay publishes the `ThingHappened` rows the test writes to its outbox; its consumer applies
each event to `fault_applied`, a table without a unique key, so a second application of an
event would show as a second row, a lost one as a missing row, and the order of the rows per
thing is the order the consumer applied them. The test runs it as a real process (uvicorn)
on a dedicated PostgreSQL and broker, and kills, pauses or restarts those underneath it.
"""

from __future__ import annotations

import asyncio
from typing import ClassVar

import sqlalchemy as sa
from fastapi import FastAPI
from pydantic_settings import SettingsConfigDict

from shared.consumer import ConsumerContext, EventConsumer
from shared.db.engine import new_metadata
from shared.events.envelope import CloudEvent
from shared.service_app import create_service_app
from shared.settings import ServiceSettings
from tests.shared.sample_events import ThingHappened


class FaultSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FAULTTEST_", extra="ignore")
    service_name: ClassVar[str] = "platformtest"

    # How long the handler works on each event: a backlog for the fault to hit mid-batch.
    handler_delay_seconds: float = 0.0
    # Healing checks every second instead of every five, to keep the tests short.
    check_interval_seconds: float = 1.0


metadata = new_metadata()
applied = sa.Table(
    "fault_applied",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("event_id", sa.Text, nullable=False),
    sa.Column("thing_id", sa.Text, nullable=False),
    sa.Column("n", sa.Integer, nullable=False),
)

things = EventConsumer("platformtest", "faults")


@things.on(ThingHappened)
async def apply_thing(
    session, event: ThingHappened, envelope: CloudEvent, context: ConsumerContext
) -> None:
    if context.settings.handler_delay_seconds:
        await asyncio.sleep(context.settings.handler_delay_seconds)
    await session.execute(
        sa.insert(applied).values(event_id=envelope.id, thing_id=event.thing_id, n=event.n)
    )


async def quicker_healing(app: FastAPI) -> None:
    """The production intervals (5 s checks, 15 s commit timeout) made shorter for tests."""
    interval = app.state.settings.check_interval_seconds
    for runner in app.state.consumer_runners:
        runner.check_interval = interval
        runner.commit_timeout = 5.0
        runner.max_backoff = 2.0
    if app.state.relay is not None:
        app.state.relay.check_interval = interval
        app.state.relay.max_backoff = 2.0


def create_app(settings: FaultSettings | None = None) -> FastAPI:
    return create_service_app(
        settings or FaultSettings(),
        title="Fault-test service",
        description="The platform library's relay and consumer, for the fault tests.",
        consumers=[things],
        background=[quicker_healing],
    )


app = create_app()
