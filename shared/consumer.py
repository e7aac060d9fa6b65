"""The consumer runner: idempotent handling of platform events from Kafka.

A service declares an `EventConsumer` and registers one handler per event model it cares
about. The runner gives each message one database transaction holding the handler's effects
and an `inbox` row keyed by (consumer, source, id), so a redelivered event has no second
effect. Offsets are committed explicitly, only after the database commit. A message that
keeps failing goes to `<topic>.dlq.<consumer>` with the error, and consumption goes on.

A handler that needs the service's settings or its clock declares a fourth parameter named
`context`: the runner passes it a `ConsumerContext` (the app's settings and clock, given by
`create_service_app`), so no handler reads `get_settings()` or the wall clock itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError
from prometheus_client import Counter
from pydantic import ValidationError
from sqlalchemy import text

from shared.clock import SYSTEM_CLOCK, Clock
from shared.context import consuming
from shared.db.engine import Database
from shared.events.envelope import CloudEvent, parse_envelope
from shared.events.model import DomainEvent
from shared.kafka import ensure_topics, new_producer
from shared.kafka_security import client_options

log = logging.getLogger(__name__)

Handler = Callable[..., Awaitable[None]]
"""`handler(session, event, envelope)`, or `handler(session, event, envelope, context)`."""


@dataclass(frozen=True)
class ConsumerContext:
    """What a handler may need of its service besides the transaction: its settings and its
    clock (the app's, so a test's `ManualClock` reaches the handlers too)."""

    settings: Any = None
    clock: Clock = field(default=SYSTEM_CLOCK)


def wants_context(handler: Handler) -> bool:
    return "context" in inspect.signature(handler).parameters


PROCESSED = Counter("sp_consumer_events_total", "Events handled", ["consumer", "outcome"])

_CLAIM = text(
    "INSERT INTO inbox (consumer, source, id, type) VALUES (:consumer, :source, :id, :type) "
    "ON CONFLICT DO NOTHING RETURNING 1"
)


def dead_letter_topic(topic: str, consumer: str) -> str:
    return f"{topic}.dlq.{consumer}"


class EventConsumer:
    """A named consumer (its Kafka group is `<service>.<name>`) and its handlers."""

    def __init__(self, service: str, name: str) -> None:
        self.group = f"{service}.{name}"
        self._handlers: dict[str, tuple[type[DomainEvent], Handler]] = {}

    def on(self, event: type[DomainEvent]) -> Callable[[Handler], Handler]:
        """Register `handler(session, event_model, envelope)` for one event type."""

        def register(handler: Handler) -> Handler:
            self._handlers[event.event_type()] = (event, handler)
            return handler

        return register

    @property
    def topics(self) -> list[str]:
        return sorted({model.topic() for model, _ in self._handlers.values()})

    def handler_for(self, event_type: str) -> tuple[type[DomainEvent], Handler] | None:
        return self._handlers.get(event_type)


class PoisonMessage(Exception):
    """A message no retry can fix: not our envelope, or data that fails its model."""


class _Rebalance(ConsumerRebalanceListener):
    def __init__(self, runner: ConsumerRunner) -> None:
        self.runner = runner

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        # Work in progress finishes its database transaction; its offset commit may then fail
        # and the message comes again, which the inbox turns into a no-op.
        self.runner.revoked.update(revoked)

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        self.runner.revoked.difference_update(assigned)


class ConsumerRunner:
    def __init__(
        self,
        consumer: EventConsumer,
        *,
        database: Database,
        bootstrap_servers: str,
        max_attempts: int = 3,
        retry_backoff: float = 0.2,
        topic_partitions: int = 3,
        topic_replication: int = 1,
        max_backoff: float = 30.0,
        context: ConsumerContext | None = None,
    ) -> None:
        self.consumer = consumer
        self.context = context or ConsumerContext()
        self.database = database
        self.bootstrap_servers = bootstrap_servers
        self.max_attempts = max_attempts
        self.retry_backoff = retry_backoff
        self.topic_partitions = topic_partitions
        self.topic_replication = topic_replication
        self.max_backoff = max_backoff
        self.revoked: set[TopicPartition] = set()
        self.assigned = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._kafka: AIOKafkaConsumer | None = None
        self._producer = None

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name=f"consumer-{self.consumer.group}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def run(self) -> None:
        backoff = 0.5
        while True:
            try:
                await self._consume()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # broker or database away: start again after a pause
                log.warning(
                    "consumer %s paused, retrying in %.1fs: %s", self.consumer.group, backoff, exc
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff)

    async def _consume(self) -> None:
        topics = self.consumer.topics
        await ensure_topics(
            self.bootstrap_servers,
            topics + [dead_letter_topic(t, self.consumer.group) for t in topics],
            partitions=self.topic_partitions,
            replication=self.topic_replication,
        )
        kafka = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap_servers,
            group_id=self.consumer.group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            request_timeout_ms=30_000,
            **client_options(),
        )
        producer = new_producer(self.bootstrap_servers)
        try:
            await kafka.start()
            await producer.start()
            self._kafka, self._producer = kafka, producer
            kafka.subscribe(topics, listener=_Rebalance(self))
            while True:
                batch = await kafka.getmany(timeout_ms=500, max_records=200)
                if kafka.assignment():
                    self.assigned.set()
                for tp, messages in batch.items():
                    await self._handle_partition_batch(kafka, tp, messages)
        finally:
            self.assigned.clear()
            self._kafka = self._producer = None
            with contextlib.suppress(Exception):
                await kafka.stop()
            with contextlib.suppress(Exception):
                await producer.stop()

    async def _handle_partition_batch(
        self, kafka: AIOKafkaConsumer, tp: TopicPartition, messages: list
    ) -> None:
        last_done: int | None = None
        for message in messages:
            if tp in self.revoked:
                break
            await self._handle(message)
            last_done = message.offset
        if last_done is None:
            return
        try:
            await kafka.commit({tp: last_done + 1})
        except (CommitFailedError, IllegalStateError) as exc:
            log.info("offset commit for %s skipped after a rebalance: %s", tp, exc)

    async def _handle(self, message: Any) -> None:
        try:
            envelope, model, handler = self._decode(message.value, message.topic)
        except PoisonMessage as exc:
            await self._dead_letter(message, exc)
            return
        if handler is None:
            PROCESSED.labels(self.consumer.group, "ignored").inc()
            return
        error: BaseException | None = None
        for attempt in range(self.max_attempts):
            try:
                await self._apply(envelope, model, handler)
                PROCESSED.labels(self.consumer.group, "handled").inc()
                return
            except Exception as exc:
                error = exc
                log.warning(
                    "consumer %s failed on %s (attempt %d/%d): %s",
                    self.consumer.group,
                    envelope.id,
                    attempt + 1,
                    self.max_attempts,
                    exc,
                )
                await asyncio.sleep(self.retry_backoff * (2**attempt))
        assert error is not None
        await self._dead_letter(message, error)

    def _decode(self, raw: bytes | None, topic: str) -> tuple[CloudEvent, Any, Handler | None]:
        if raw is None:
            raise PoisonMessage("empty message")
        try:
            envelope = parse_envelope(raw)
        except (ValidationError, ValueError) as exc:
            raise PoisonMessage(f"not a CloudEvents envelope: {exc}") from exc
        found = self.consumer.handler_for(envelope.type)
        if found is None:
            return envelope, None, None
        model_cls, handler = found
        # Only the service that owns an event type publishes it, on its own topic: an event
        # claiming another source, or sent to another topic, is not applied (the broker's ACLs
        # let each service write only its own topics; this holds even where they are absent).
        if envelope.source != model_cls.source():
            raise PoisonMessage(
                f"{envelope.type} comes from {model_cls.source()}, not {envelope.source}"
            )
        if topic != model_cls.topic():
            raise PoisonMessage(f"{envelope.type} belongs on {model_cls.topic()}, not {topic}")
        try:
            model = model_cls.model_validate(envelope.data)
        except ValidationError as exc:
            raise PoisonMessage(f"data does not match {envelope.type}: {exc}") from exc
        return envelope, model, handler

    async def _apply(self, envelope: CloudEvent, model: Any, handler: Handler) -> None:
        async with self.database.transaction() as session:
            claimed = await session.execute(
                _CLAIM,
                {
                    "consumer": self.consumer.group,
                    "source": envelope.source,
                    "id": envelope.id,
                    "type": envelope.type,
                },
            )
            if claimed.first() is None:
                PROCESSED.labels(self.consumer.group, "duplicate").inc()
                return
            # What the handler emits is caused by this event and continues its trace.
            with consuming(
                envelope.id,
                traceparent=envelope.traceparent,
                correlationid=envelope.correlationid,
            ):
                if wants_context(handler):
                    await handler(session, model, envelope, context=self.context)
                else:
                    await handler(session, model, envelope)

    async def _dead_letter(self, message: Any, error: BaseException) -> None:
        topic = dead_letter_topic(message.topic, self.consumer.group)
        headers = [
            *(message.headers or []),
            ("x-dlq-consumer", self.consumer.group.encode()),
            ("x-dlq-error", f"{type(error).__name__}: {error}"[:2000].encode()),
            ("x-dlq-original-topic", message.topic.encode()),
            ("x-dlq-original-partition", str(message.partition).encode()),
            ("x-dlq-original-offset", str(message.offset).encode()),
        ]
        # If this send fails we must not move past the message: the exception stops the batch
        # before its offset is committed, and the runner starts again.
        await self._producer.send_and_wait(
            topic, value=message.value, key=message.key, headers=headers
        )
        PROCESSED.labels(self.consumer.group, "dead_lettered").inc()
        log.error(
            "consumer %s sent %s/%d@%d to %s: %s",
            self.consumer.group,
            message.topic,
            message.partition,
            message.offset,
            topic,
            error,
        )
