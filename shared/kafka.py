"""Small helpers around aiokafka shared by the relay, the consumer runner and /ready."""

from __future__ import annotations

import asyncio
import logging

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.client import AIOKafkaClient
from aiokafka.errors import KafkaError

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
