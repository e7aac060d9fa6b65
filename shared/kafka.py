"""Small helpers around aiokafka shared by the relay, the consumer runner and /ready."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.client import AIOKafkaClient
from aiokafka.errors import KafkaError, OffsetOutOfRangeError

from shared.kafka_security import client_options

TOPIC_ALREADY_EXISTS = 36

log = logging.getLogger(__name__)


async def ensure_topics(
    bootstrap_servers: str, topics: list[str], *, partitions: int = 3, replication: int = 1
) -> None:
    """Create the topics that do not exist yet (production creates them in deploy/)."""
    if not topics:
        return
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap_servers, request_timeout_ms=10_000, **client_options()
    )
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in topics if t not in existing]
        if missing:
            response = await admin.create_topics(
                [
                    NewTopic(t, num_partitions=partitions, replication_factor=replication)
                    for t in missing
                ]
            )
            # aiokafka reports per-topic errors in the response instead of raising them.
            for topic, code, *rest in getattr(response, "topic_errors", []):
                if code not in (0, TOPIC_ALREADY_EXISTS):  # another process won the race
                    raise KafkaError(f"creating topic {topic} failed with error {code}: {rest}")
    finally:
        await admin.close()


def new_producer(bootstrap_servers: str, *, enable_idempotence: bool = False) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        acks="all",
        enable_idempotence=enable_idempotence,
        request_timeout_ms=10_000,
        retry_backoff_ms=200,
        linger_ms=5,
        max_batch_size=256 * 1024,
        **client_options(),
    )


class BrokerProbe:
    """Answers "is the broker reachable?" for /ready without a client per request."""

    def __init__(self, bootstrap_servers: str) -> None:
        self.bootstrap_servers = bootstrap_servers
        self._client: AIOKafkaClient | None = None

    async def check(self, timeout: float = 3.0) -> None:  # noqa: ASYNC109
        """Raises if no broker answers a metadata request within `timeout` seconds."""
        if self._client is None:
            client = AIOKafkaClient(
                bootstrap_servers=self.bootstrap_servers,
                request_timeout_ms=int(timeout * 1000),
                **client_options(),
            )
            try:
                await asyncio.wait_for(client.bootstrap(), timeout)
            except BaseException:
                await client.close()
                raise
            self._client = client
        try:
            await asyncio.wait_for(self._client.fetch_all_metadata(), timeout)
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.close()


async def recreate_topics(
    bootstrap_servers: str, topics: list[str], *, partitions: int = 3, replication: int = 1
) -> None:
    """Delete `topics` and create them again with the declared partitions: only for a topic
    the broker already lost (the relay re-publishes what it held from the outbox), never for
    one that holds data nothing else has."""
    if not topics:
        return
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap_servers, request_timeout_ms=10_000, **client_options()
    )
    await admin.start()
    try:
        await admin.delete_topics(topics)
    finally:
        await admin.close()
    await ensure_topics(bootstrap_servers, topics, partitions=partitions, replication=replication)


def is_broker_unavailable(exc: BaseException) -> bool:
    """The broker is out of reach or busy (a connection, a timeout, a retriable error): no
    fault of the message or of the request."""
    return isinstance(exc, OSError | TimeoutError) or (
        isinstance(exc, KafkaError) and bool(getattr(exc, "retriable", False))
    )


class TopicWatch:
    """Partition counts and end offsets of topics, for the relay and the consumers to notice
    that the broker lost data. Metadata is read for all topics at once: a metadata request that
    names a topic makes the local broker (and any broker with auto-creation on) create it with
    its own partition count, which is exactly what the platform must not rely on."""

    def __init__(self, bootstrap_servers: str, *, timeout: float = 10.0) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.timeout = timeout
        self._client: AIOKafkaClient | None = None
        self._offsets: AIOKafkaConsumer | None = None
        self._reader: AIOKafkaConsumer | None = None

    async def partitions(self) -> dict[str, int]:
        """Every topic the broker has, with its number of partitions."""
        if self._client is None:
            client = AIOKafkaClient(
                bootstrap_servers=self.bootstrap_servers,
                request_timeout_ms=int(self.timeout * 1000),
                **client_options(),
            )
            try:
                await asyncio.wait_for(client.bootstrap(), self.timeout)
            except BaseException:
                await client.close()
                raise
            self._client = client
        try:
            cluster = await asyncio.wait_for(self._client.fetch_all_metadata(), self.timeout)
        except BaseException:
            await self.close()
            raise
        return {t: len(cluster.partitions_for_topic(t) or ()) for t in cluster.topics()}

    async def end_offsets(self, topics: dict[str, int]) -> dict[TopicPartition, int]:
        """The end offset of every partition of `topics` (name: partition count), which must
        exist (see `partitions`)."""
        if not topics:
            return {}
        if self._offsets is None:
            consumer = AIOKafkaConsumer(
                bootstrap_servers=self.bootstrap_servers,
                group_id=None,
                enable_auto_commit=False,
                request_timeout_ms=int(self.timeout * 1000),
                **client_options(),
            )
            try:
                await asyncio.wait_for(consumer.start(), self.timeout)
            except BaseException:
                await consumer.stop()
                raise
            self._offsets = consumer
        tps = [TopicPartition(t, p) for t, n in topics.items() for p in range(n)]
        try:
            return await asyncio.wait_for(self._offsets.end_offsets(tps), self.timeout)
        except BaseException:
            await self.close()
            raise

    async def holds(self, tp: TopicPartition, offset: int) -> bool:
        """Whether the partition still has a record at `offset`. End offsets alone cannot tell
        that a topic lost data: Tansu reports as a partition's end the first offset of its last
        record batch plus one, below the true end."""
        if self._reader is None:
            reader = AIOKafkaConsumer(
                bootstrap_servers=self.bootstrap_servers,
                group_id=None,
                enable_auto_commit=False,
                auto_offset_reset="none",
                request_timeout_ms=int(self.timeout * 1000),
                **client_options(),
            )
            try:
                await asyncio.wait_for(reader.start(), self.timeout)
            except BaseException:
                await reader.stop()
                raise
            self._reader = reader
        self._reader.assign([tp])
        self._reader.seek(tp, offset)
        try:
            batch = await self._reader.getmany(tp, timeout_ms=int(self.timeout * 1000))
        except OffsetOutOfRangeError:
            return False
        return any(record.offset == offset for record in batch.get(tp, ()))

    async def close(self) -> None:
        client, self._client = self._client, None
        offsets, self._offsets = self._offsets, None
        reader, self._reader = self._reader, None
        if client is not None:
            with contextlib.suppress(Exception):
                await client.close()
        for consumer in (offsets, reader):
            if consumer is not None:
                with contextlib.suppress(Exception):
                    await consumer.stop()
