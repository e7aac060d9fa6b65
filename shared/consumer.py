"""The consumer runner: idempotent handling of platform events from Kafka.

A service declares an `EventConsumer` and registers one handler per event model it cares
about. The runner gives each message one database transaction holding the handler's effects
and an `inbox` row keyed by (consumer, source, id), so a redelivered event has no second
effect. Offsets are committed explicitly, only after the database commit. A message that
keeps failing goes to `<topic>.dlq.<consumer>` with the error, and consumption goes on.

The runner heals by itself. A failure that is no fault of the message (the database or the
broker out of reach) is retried with backoff for as long as it lasts and never counts toward
`max_attempts`, so an outage sends nothing to the dead-letter topic. An offset commit that does
not succeed within `commit_timeout` makes the runner leave and join again (a new client, its
topics created again if the broker lost them) instead of retrying forever. Every
`check_interval` seconds it compares its topics with the broker: a topic gone, its partition
count changed, or its end offset behind what the runner already handled means the topic was
re-created, and the runner reads it again from the start (the inbox makes that safe). The same
check measures the lag and the time since the runner last made progress (metrics, `/ready`).

A handler that needs the service's settings or its clock declares a fourth parameter named
`context`: the runner passes it a `ConsumerContext` (the app's settings and clock, given by
`create_service_app`), so no handler reads `get_settings()` or the wall clock itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError
from prometheus_client import Counter, Gauge
from pydantic import ValidationError
from sqlalchemy import text

from shared.clock import SYSTEM_CLOCK, Clock
from shared.context import consuming
from shared.db.engine import Database
from shared.events.envelope import CloudEvent, parse_envelope
from shared.events.model import DomainEvent
from shared.kafka import TopicWatch, ensure_topics, is_broker_unavailable, new_producer
from shared.kafka_security import client_options
from shared.problems import storage_failure

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
LAG = Gauge(
    "sp_consumer_lag", "Messages of the consumer's topic not yet handled", ["consumer", "topic"]
)
SINCE_PROGRESS = Gauge(
    "sp_consumer_seconds_since_progress",
    "Seconds since the consumer last handled a message or was caught up",
    ["consumer"],
)
RESTARTS = Counter("sp_consumer_restarts_total", "Consumer client restarts", ["consumer", "reason"])


def is_transient(exc: BaseException) -> bool:
    """The database or the broker out of reach: retried for as long as it lasts, never a
    reason to dead-letter the message."""
    return storage_failure(exc) == "unavailable" or is_broker_unavailable(exc)


class ConsumerRestart(Exception):
    """The client must leave and join again (a commit that cannot succeed, a topic gone)."""


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
        runner = self.runner
        for tp in assigned:
            runner.next_offsets.pop(tp, None)
        rewind = [tp for tp in assigned if tp.topic in runner.rewind_topics]
        if rewind and runner._kafka is not None:
            # The topic was re-created: its offsets (committed or ours) mean nothing any more.
            await runner._kafka.seek_to_beginning(*rewind)
            runner.rewind_topics.difference_update(tp.topic for tp in rewind)
            log.warning("consumer %s reads %s again from the start", runner.consumer.group, rewind)


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
        transient_max_backoff: float = 5.0,
        commit_timeout: float = 15.0,
        check_interval: float = 5.0,
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
        self.transient_max_backoff = transient_max_backoff
        self.commit_timeout = commit_timeout
        self.check_interval = check_interval
        # Healing and health: the next offset to handle per partition, topics to read again
        # from the start, the partition counts seen, the lag and the last progress.
        self.next_offsets: dict[TopicPartition, int] = {}
        self.rewind_topics: set[str] = set()
        self.partition_counts: dict[str, int] = {}
        self.lag: dict[str, int] = {}
        self.last_progress = time.monotonic()
        self.transient_failures = 0
        self._pending: dict[TopicPartition, int] = {}
        self._restart: str | None = None
        SINCE_PROGRESS.labels(consumer.group).set_function(self.seconds_since_progress)
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

    def seconds_since_progress(self) -> float:
        """0 while caught up; else the seconds since a message was last handled."""
        if not any(self.lag.values()):
            return 0.0
        return max(0.0, time.monotonic() - self.last_progress)

    def stalled(self, after_seconds: float) -> bool:
        """Messages wait on the topic and none was handled for `after_seconds`."""
        return self.seconds_since_progress() > after_seconds

    async def run(self) -> None:
        backoff = 0.5
        while True:
            try:
                await self._consume()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # broker or database away: start again after a pause
                if self.assigned.is_set():
                    backoff = 0.5  # it worked for a while: this is a new trouble
                reason = "restart" if isinstance(exc, ConsumerRestart) else type(exc).__name__
                RESTARTS.labels(self.consumer.group, reason).inc()
                log.warning(
                    "consumer %s paused, retrying in %.1fs: %s", self.consumer.group, backoff, exc
                )
                await asyncio.sleep(backoff)
                # A restart is the consumer's own decision (a topic re-created, a commit that
                # cannot succeed), not an outage: its pauses stay short, or a few of them in a
                # row (a topic re-created while the broker comes back) would wait up to
                # max_backoff each before the consumer reads again.
                ceiling = (
                    self.transient_max_backoff
                    if isinstance(exc, ConsumerRestart)
                    else self.max_backoff
                )
                backoff = min(backoff * 2, ceiling)

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
        watch = TopicWatch(self.bootstrap_servers)
        monitor: asyncio.Task | None = None
        self._restart = None
        try:
            await kafka.start()
            await producer.start()
            self._kafka, self._producer = kafka, producer
            self.partition_counts = {
                t: n for t, n in (await watch.partitions()).items() if t in topics
            }
            kafka.subscribe(topics, listener=_Rebalance(self))
            monitor = asyncio.create_task(self._watch(kafka, watch))
            while True:
                if self._restart is not None:
                    raise ConsumerRestart(self._restart)
                batch = await kafka.getmany(timeout_ms=500, max_records=200)
                if kafka.assignment():
                    self.assigned.set()
                for tp, messages in batch.items():
                    await self._handle_partition_batch(kafka, tp, messages)
        finally:
            self.assigned.clear()
            self._kafka = self._producer = None
            if monitor is not None:
                monitor.cancel()
                with contextlib.suppress(BaseException):
                    await monitor
            with contextlib.suppress(Exception):
                await watch.close()
            with contextlib.suppress(Exception):
                await kafka.stop()
            with contextlib.suppress(Exception):
                await producer.stop()

    async def _watch(self, kafka: AIOKafkaConsumer, watch: TopicWatch) -> None:
        while True:
            await asyncio.sleep(self.check_interval)
            try:
                await asyncio.wait_for(self.check(kafka, watch), max(self.check_interval, 10.0))
            except Exception as exc:  # the broker is away: the main loop notices it too
                log.info("consumer %s could not check its topics: %s", self.consumer.group, exc)

    async def check(self, kafka: AIOKafkaConsumer, watch: TopicWatch) -> None:
        """Notice re-created topics; measure lag and progress."""
        topics = self.consumer.topics
        present = await watch.partitions()
        for topic in topics:
            count, seen = present.get(topic), self.partition_counts.get(topic)
            dlq = dead_letter_topic(topic, self.consumer.group)
            if count is None or dlq not in present or (seen is not None and count != seen):
                # Gone, or re-created with another partition count: join again on the topics
                # as the platform creates them, and read this one from the start.
                self.rewind_topics.add(topic)
                self._restart = f"topic {topic} was re-created or is missing"
                return
        assigned = [tp for tp in kafka.assignment() if tp.topic in topics]
        ends = await watch.end_offsets({t: present[t] for t in {tp.topic for tp in assigned}})
        lag: dict[str, int] = dict.fromkeys(topics, 0)
        rewind: list[TopicPartition] = []
        for tp in assigned:
            end = ends.get(tp, 0)
            position = self.next_offsets.get(tp)
            if position is None:
                # Nothing handled here since the assignment: the group's committed offset (which
                # may pass the end the broker reports: Tansu reports it low).
                committed = await kafka.committed(tp)
                position = committed if committed is not None else 0
            elif end < position and not await watch.holds(tp, position - 1):
                rewind.append(tp)
                position = 0
            # Messages fetched and not handled yet count too (the end offset may be low).
            lag[tp.topic] += max(end - position, self._pending.get(tp, 0), 0)
        if rewind:
            log.warning(
                "consumer %s: %s end behind what it handled (re-created); reading again",
                self.consumer.group,
                rewind,
            )
            self.rewind_topics.update(tp.topic for tp in rewind)
            self._restart = "a topic's end offset went behind what was handled"
        self.lag = lag
        for topic, value in lag.items():
            LAG.labels(self.consumer.group, topic).set(value)
        if not any(lag.values()):
            self.last_progress = time.monotonic()

    async def _handle_partition_batch(
        self, kafka: AIOKafkaConsumer, tp: TopicPartition, messages: list
    ) -> None:
        last_done: int | None = None
        self._pending[tp] = len(messages)
        try:
            for message in messages:
                if tp in self.revoked or self._restart is not None:
                    break
                if not await self._handle(message):
                    break
                last_done = message.offset
                self.next_offsets[tp] = message.offset + 1
                self.last_progress = time.monotonic()
                self._pending[tp] -= 1
        finally:
            self._pending.pop(tp, None)
        if last_done is None:
            return
        try:
            await asyncio.wait_for(kafka.commit({tp: last_done + 1}), self.commit_timeout)
        except (CommitFailedError, IllegalStateError) as exc:
            log.info("offset commit for %s skipped after a rebalance: %s", tp, exc)
        except (TimeoutError, KafkaError) as exc:
            # Never spin on a commit that cannot succeed (a topic the broker lost, a group it
            # forgot): join again; what was handled comes again and the inbox skips it.
            raise ConsumerRestart(f"offset commit for {tp} failed: {exc!r}") from exc

    async def _handle(self, message: Any) -> bool:
        """Handle one message; False when it must be left for later (the partition was taken
        away, or the runner must join again, during an outage)."""
        try:
            envelope, model, handler = self._decode(message.value, message.topic)
        except PoisonMessage as exc:
            await self._dead_letter(message, exc)
            return True
        if handler is None:
            PROCESSED.labels(self.consumer.group, "ignored").inc()
            return True
        tp = TopicPartition(message.topic, message.partition)
        error: BaseException | None = None
        attempt = 0
        outage = self.retry_backoff
        while attempt < self.max_attempts:
            try:
                await self._apply(envelope, model, handler)
                PROCESSED.labels(self.consumer.group, "handled").inc()
                return True
            except Exception as exc:
                if is_transient(exc):
                    # Not the message's fault: wait for the database or broker, uncounted.
                    self.transient_failures += 1
                    log.warning(
                        "consumer %s waits %.1fs for the database or broker (%s) on %s",
                        self.consumer.group,
                        outage,
                        type(exc).__name__,
                        envelope.id,
                    )
                    await asyncio.sleep(outage)
                    outage = min(outage * 2, self.transient_max_backoff)
                    if tp in self.revoked or self._restart is not None:
                        return False
                    continue
                error = exc
                attempt += 1
                log.warning(
                    "consumer %s failed on %s (attempt %d/%d): %s",
                    self.consumer.group,
                    envelope.id,
                    attempt,
                    self.max_attempts,
                    exc,
                )
                await asyncio.sleep(self.retry_backoff * (2 ** (attempt - 1)))
        assert error is not None
        await self._dead_letter(message, error)
        return True

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
        # before its offset is committed, and the runner starts again. The topic is created
        # first, as declared (a broker that lost it would otherwise auto-create it).
        await ensure_topics(
            self.bootstrap_servers,
            [topic],
            partitions=self.topic_partitions,
            replication=self.topic_replication,
        )
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
