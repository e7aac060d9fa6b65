"""The outbox relay: publishes committed outbox rows to Kafka in `seq` order.

One relay per service database publishes at a time (a session-level PostgreSQL advisory lock
held on the relay's own connection; the others stand by and take over when that connection
dies). It wakes on LISTEN/NOTIFY and also polls, because a notification is only a hint. A
row is marked published only after the broker acknowledged it (acks=all); when the broker is
away the relay backs off and tries again, and the rows wait safely in PostgreSQL.

The relay also heals what the broker loses. It creates its topics with the declared
partitions before publishing to them (never leaving that to the broker's auto-creation), and
every `check_interval` seconds it compares the broker with what it published: a topic missing,
a topic re-created (its end offsets behind what the broker acknowledged to this relay), or, at
start, a topic that is empty although rows of it were published, means the broker lost data.
The relay then creates the topic again (with the declared partitions) and re-publishes every
retained outbox row of that topic, in `seq` order; consumers deduplicate by event id. Rows are
kept `retention` after publication (`<S>_OUTBOX_RETENTION_HOURS`), which bounds how far back
this healing and `python -m shared.outbox.replay` can reach.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import zlib
from datetime import timedelta

import asyncpg
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError
from prometheus_client import Counter, Gauge

from shared.db.engine import asyncpg_dsn
from shared.db.platform_tables import OUTBOX_CHANNEL
from shared.events.envelope import CONTENT_TYPE, build_envelope, encode
from shared.kafka import TopicWatch, ensure_topics, new_producer, recreate_topics

log = logging.getLogger(__name__)

PUBLISHED = Counter("sp_outbox_published_total", "Outbox events published", ["service"])
FAILURES = Counter("sp_outbox_publish_failures_total", "Failed publication attempts", ["service"])
LAG = Gauge("sp_outbox_lag_seconds", "Age of the oldest unpublished event", ["service"])
LEADER = Gauge("sp_outbox_relay_leader", "1 while this process holds the relay lock", ["service"])
BACKLOG = Gauge("sp_outbox_backlog", "Outbox rows not yet published", ["service"])
OLDEST = Gauge(
    "sp_outbox_oldest_unpublished_seconds", "Age of the oldest unpublished outbox row", ["service"]
)
REPUBLISHED = Counter(
    "sp_outbox_republished_total",
    "Outbox rows queued again because the broker lost them",
    ["service", "topic"],
)

_BACKLOG = """
    SELECT count(*) AS rows, coalesce(extract(epoch FROM now() - min(occurred_at)), 0) AS age
    FROM outbox WHERE published_at IS NULL
"""
_REQUEUE_TOPIC = (
    "UPDATE outbox SET published_at = NULL WHERE topic = $1 AND published_at IS NOT NULL"
)

_FETCH = """
    SELECT seq, id, aggregate_type, aggregate_id, type, topic, dataschema, payload,
           occurred_at, jurisdiction, traceparent, causationid, correlationid,
           extract(epoch FROM now() - occurred_at) AS age
    FROM outbox WHERE published_at IS NULL ORDER BY seq LIMIT $1
"""


def relay_lock_key(service: str) -> int:
    """A stable 63-bit advisory-lock key per service."""
    return zlib.crc32(f"sp.outbox.relay.{service}".encode()) | (1 << 40)


class OutboxRelay:
    def __init__(
        self,
        *,
        service: str,
        database_url: str,
        bootstrap_servers: str,
        poll_interval: float = 1.0,
        batch_size: int = 500,
        retention: timedelta = timedelta(hours=72),
        topic_partitions: int = 3,
        topic_replication: int = 1,
        enable_idempotence: bool = False,
        maintenance_sql: tuple[str, ...] = (),
        max_backoff: float = 30.0,
        check_interval: float = 5.0,
    ) -> None:
        self.service = service
        self.source = f"/sp/{service}"
        self.dsn = asyncpg_dsn(database_url)
        self.bootstrap_servers = bootstrap_servers
        self.poll_interval = poll_interval
        self.batch_size = batch_size
        self.retention = retention
        self.topic_partitions = topic_partitions
        self.topic_replication = topic_replication
        self.enable_idempotence = enable_idempotence
        self.maintenance_sql = maintenance_sql
        self.max_backoff = max_backoff
        self.check_interval = check_interval
        self.is_leader = False
        self.healed: list[tuple[str, str]] = []  # (topic, what the broker lost), for tests/logs
        # Per partition, since this relay started: the highest offset the broker acknowledged,
        # and the lowest of the latest batch that wrote to it. A partition that ends at or
        # before the latter lost data. (Not the former: Tansu reports as a partition's end the
        # first offset of its last record batch plus one, which can be below what it acked.)
        self._acked: dict[tuple[str, int], int] = {}
        self._batch_first: dict[tuple[str, int], int] = {}
        self._watch: TopicWatch | None = None
        self._checked_at_start = False
        self._went_back: dict[str, str] = {}
        self.last_error: str | None = None
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._producer: AIOKafkaProducer | None = None
        self._known_topics: set[str] = set()
        self._task: asyncio.Task | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name=f"outbox-relay-{self.service}")

    async def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._close_producer()
        if self._watch is not None:
            await self._watch.close()

    async def run(self) -> None:
        backoff = 0.5
        while not self._stopping.is_set():
            conn: asyncpg.Connection | None = None
            try:
                conn = await asyncpg.connect(
                    self.dsn, server_settings={"application_name": f"{self.service}-outbox-relay"}
                )
                await self._stand_by_until_leader(conn)
                await conn.add_listener(OUTBOX_CHANNEL, self._on_notify)
                backoff = 0.5
                await self._lead(conn)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database or the broker is away: try again later
                self.last_error = f"{type(exc).__name__}: {exc}"
                FAILURES.labels(self.service).inc()
                log.warning("outbox relay paused, retrying in %.1fs: %s", backoff, self.last_error)
                await self._sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff)
            finally:
                self._set_leader(False)
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await conn.close(timeout=2)

    # -- leadership --------------------------------------------------------------------------

    async def _stand_by_until_leader(self, conn: asyncpg.Connection) -> None:
        key = relay_lock_key(self.service)
        while not await conn.fetchval("SELECT pg_try_advisory_lock($1)", key):
            await self._sleep(self.poll_interval)
            if self._stopping.is_set():
                raise asyncio.CancelledError
        self._set_leader(True)
        log.info("outbox relay for %s is the publisher", self.service)

    def _set_leader(self, value: bool) -> None:
        self.is_leader = value
        LEADER.labels(self.service).set(1 if value else 0)

    async def _lead(self, conn: asyncpg.Connection) -> None:
        loop = asyncio.get_running_loop()
        next_maintenance = next_check = 0.0
        self._checked_at_start = False
        while not self._stopping.is_set():
            self._wake.clear()
            if loop.time() >= next_check or self._went_back:
                await self.measure_backlog(conn)
                await self.heal(conn)
                next_check = loop.time() + self.check_interval
            published = await self.publish_batch(conn)
            if loop.time() >= next_maintenance:
                await self._maintain(conn)
                next_maintenance = loop.time() + 300
            if published < self.batch_size:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll_interval)

    # -- publishing --------------------------------------------------------------------------

    async def publish_batch(self, conn: asyncpg.Connection) -> int:
        rows = await conn.fetch(_FETCH, self.batch_size)
        if not rows:
            LAG.labels(self.service).set(0)
            return 0
        LAG.labels(self.service).set(float(rows[0]["age"]))
        # A new producer, after a failure: first look whether the broker lost anything.
        if self._producer is None and self._acked and await self.heal(conn):
            return 0
        producer = await self._ensure_producer({r["topic"] for r in rows})
        futures = []
        for row in rows:
            futures.append(
                await producer.send(
                    row["topic"],
                    value=encode(build_envelope(row, self.source)),
                    key=row["aggregate_id"].encode(),
                    headers=[("content-type", CONTENT_TYPE.encode())],
                )
            )
        results = await asyncio.gather(*futures, return_exceptions=True)
        # Mark only the acknowledged prefix: what follows a failure is sent again, in order.
        done: list[int] = []
        failure: BaseException | None = None
        firsts: dict[tuple[str, int], int] = {}
        for row, result in zip(rows, results, strict=True):
            if isinstance(result, BaseException):
                failure = result
                break
            done.append(row["seq"])
            key = (result.topic, result.partition)
            firsts.setdefault(key, result.offset)
            previous = self._acked.get(key, -1)
            if result.offset > previous:
                self._acked[key] = result.offset
            else:  # only this relay writes the topic: its offsets never go back unless lost
                self._went_back[result.topic] = (
                    f"partition {result.partition} acknowledged offset {result.offset} "
                    f"after offset {previous}"
                )
        self._batch_first.update(firsts)
        if done:
            await conn.execute(
                "UPDATE outbox SET published_at = now() WHERE seq = ANY($1::bigint[])", done
            )
            PUBLISHED.labels(self.service).inc(len(done))
        if failure is not None:
            await self._close_producer()
            raise failure
        self.last_error = None
        return len(done)

    async def _ensure_producer(self, topics: set[str]) -> AIOKafkaProducer:
        if self._producer is None:
            producer = new_producer(
                self.bootstrap_servers, enable_idempotence=self.enable_idempotence
            )
            try:
                await producer.start()
            except BaseException:
                await producer.stop()
                raise
            self._producer = producer
            self._known_topics.clear()  # a restarted broker may have forgotten them
        missing = sorted(topics - self._known_topics)
        if missing:
            await ensure_topics(
                self.bootstrap_servers,
                missing,
                partitions=self.topic_partitions,
                replication=self.topic_replication,
            )
            self._known_topics.update(missing)
        return self._producer

    # -- healing -----------------------------------------------------------------------------

    async def measure_backlog(self, conn: asyncpg.Connection) -> None:
        """The unpublished rows and the age of the oldest, as metrics (also while the broker is
        away: then nothing else measures them)."""
        row = await conn.fetchrow(_BACKLOG)
        BACKLOG.labels(self.service).set(row["rows"])
        OLDEST.labels(self.service).set(float(row["age"]))
        LAG.labels(self.service).set(float(row["age"]))

    async def heal(self, conn: asyncpg.Connection) -> list[str]:
        """Compare the broker with what this relay published; queue again the retained rows of
        every topic the broker lost. Returns those topics."""
        if self._watch is None:
            self._watch = TopicWatch(self.bootstrap_servers)
        present = await self._watch.partitions()
        topics = {topic for topic, _ in self._acked}
        at_start: set[str] = set()
        if not self._checked_at_start:
            # Rows published before this relay started: the broker may have lost them while
            # no relay was running (the whole stack restarted after a broker restart).
            rows = await conn.fetch(
                "SELECT DISTINCT topic FROM outbox WHERE published_at IS NOT NULL"
            )
            at_start = {r["topic"] for r in rows} - topics
            topics |= at_start
        lost: dict[str, str] = dict(self._went_back)
        self._went_back.clear()
        for topic in sorted(topics - set(lost)):
            if topic not in present:
                lost[topic] = "the topic is missing"
        ends = await self._watch.end_offsets({t: present[t] for t in topics if t not in lost})
        for (topic, partition), first in self._batch_first.items():
            end = ends.get(TopicPartition(topic, partition))
            if topic not in lost and (end is None or end <= first):
                lost[topic] = (
                    f"partition {partition} ends at offset {end}, "
                    f"but the broker acknowledged offset {first} to this relay"
                )
        for topic in sorted(at_start - set(lost)):
            if all(end == 0 for tp, end in ends.items() if tp.topic == topic):
                lost[topic] = "the topic is empty although rows of it were published"
        self._checked_at_start = True
        for topic, reason in lost.items():
            await self._republish(conn, topic, reason, present.get(topic))
        if lost:
            await self._close_producer()  # fresh metadata for the re-created topics
        return sorted(lost)

    async def _republish(
        self, conn: asyncpg.Connection, topic: str, reason: str, partitions: int | None
    ) -> None:
        if partitions is not None and partitions != self.topic_partitions:
            # Auto-created by the broker when some client named it: re-created as declared
            # (it holds nothing that the outbox will not publish again). Without the right to
            # delete topics (broker ACLs) it stays as it is: ordering per aggregate holds in it.
            try:
                await recreate_topics(
                    self.bootstrap_servers,
                    [topic],
                    partitions=self.topic_partitions,
                    replication=self.topic_replication,
                )
            except KafkaError as exc:
                log.error("%s has %d partitions and cannot be re-created: %s", topic,
                          partitions, exc)  # fmt: skip
        else:
            await ensure_topics(
                self.bootstrap_servers,
                [topic],
                partitions=self.topic_partitions,
                replication=self.topic_replication,
            )
        status = await conn.execute(_REQUEUE_TOPIC, topic)
        count = int(status.split()[-1])
        REPUBLISHED.labels(self.service, topic).inc(count)
        self._acked = {k: v for k, v in self._acked.items() if k[0] != topic}
        self._batch_first = {k: v for k, v in self._batch_first.items() if k[0] != topic}
        self._known_topics.add(topic)
        self.healed.append((topic, reason))
        log.error(
            "the broker lost events of %s (%s): re-publishing its %d retained outbox rows",
            topic,
            reason,
            count,
        )
        self._wake.set()

    async def _close_producer(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            with contextlib.suppress(Exception, KafkaError):
                await producer.stop()

    async def _maintain(self, conn: asyncpg.Connection) -> None:
        purged = await conn.execute(
            "DELETE FROM outbox WHERE published_at < now() - $1::interval", self.retention
        )
        log.debug("outbox purge: %s", purged)
        for statement in self.maintenance_sql:
            await conn.execute(statement)

    # -- wake-ups ----------------------------------------------------------------------------

    def _on_notify(self, *_args: object) -> None:
        self._wake.set()

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
