"""Test harness: the real PostgreSQL and broker, per-service databases, clients as principals.

The embedded PostgreSQL and the Tansu broker start once per test session unless
`TEST_POSTGRES_URL` (a server URL without database) and `KAFKA_BOOTSTRAP_SERVERS` are given.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from fastapi import FastAPI

from shared.observability import JsonFormatter
from shared.principal import INTERNAL_TOKEN_HEADER, InternalTokenSigner, Principal
from shared.settings import DEV_INTERNAL_TOKEN_PRIVATE_KEY
from shared.tiers import Tier

ROOT = Path(__file__).resolve().parent.parent

SIGNER = InternalTokenSigner(DEV_INTERNAL_TOKEN_PRIVATE_KEY)

# The people the jurisdiction tests are about (Khan Sen Sok, Phnom Penh).
NATIONAL = Principal(
    sub="national-officer", tier=Tier.NATIONAL, admin_code="", roles=frozenset({"viewer"})
)
CP_PHNOM_PENH = Principal(sub="cp-12", tier=Tier.CP, admin_code="12", roles=frozenset({"viewer"}))
DMK_SEN_SOK = Principal(
    sub="dmk-1208", tier=Tier.DMK, admin_code="1208", roles=frozenset({"registry.verifier"})
)
CS_PHNOM_PENH_THMEI = Principal(
    sub="cs-120801", tier=Tier.CS, admin_code="120801", roles=frozenset({"registry.officer"})
)
CS_TUEK_THLA = Principal(
    sub="cs-120802", tier=Tier.CS, admin_code="120802", roles=frozenset({"registry.officer"})
)
CP_BANTEAY_MEANCHEY = Principal(
    sub="cp-01", tier=Tier.CP, admin_code="01", roles=frozenset({"viewer"})
)


def internal_headers(principal: Principal | None, audience: str) -> dict[str, str]:
    if principal is None:
        return {}
    return {INTERNAL_TOKEN_HEADER: SIGNER.sign(principal, audience=audience)}


@contextlib.asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[FastAPI]:
    """The app with its lifespan (database, relay, consumers) started."""
    async with app.router.lifespan_context(app):
        yield app


@contextlib.contextmanager
def json_log(logger: str, service: str) -> Iterator[io.StringIO]:
    """What `logger` writes meanwhile, as the platform's JSON lines (request id included)."""
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setFormatter(JsonFormatter(service))
    logging.getLogger(logger).addHandler(handler)
    try:
        yield lines
    finally:
        logging.getLogger(logger).removeHandler(handler)


def client_for(app: FastAPI, principal: Principal | None, *, audience: str) -> httpx.AsyncClient:
    """An httpx client on the app that calls it as `principal` would through the gateway."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
        base_url="http://service.test",
        headers=internal_headers(principal, audience),
    )


async def wait_for(
    predicate: Callable[[], Any], *, timeout: float = 15.0, interval: float = 0.05
) -> Any:
    """Poll an async or sync predicate until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(interval)


async def read_topic(
    bootstrap: str, topic: str, *, until: Callable[[list], bool], timeout: float = 20.0
) -> list:
    """All records of `topic` from the beginning, read without a consumer group (no join
    delay), until `until(records)` holds; raises if it never does."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        group_id=None,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    records: list = []
    try:
        deadline = time.monotonic() + timeout
        partitions = None
        while not partitions:
            partitions = consumer.partitions_for_topic(topic)
            if not partitions:
                await consumer._client.force_metadata_update()
                partitions = consumer.partitions_for_topic(topic)
            if not partitions:
                if time.monotonic() > deadline:
                    raise AssertionError(f"topic {topic} never appeared")
                await asyncio.sleep(0.1)
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        while not until(records):
            if time.monotonic() > deadline:
                raise AssertionError(f"{topic}: condition not met; read {len(records)} records")
            batch = await consumer.getmany(timeout_ms=200)
            for messages in batch.values():
                records.extend(messages)
        # Anything that arrives shortly after is part of the answer too (duplicates would).
        batch = await consumer.getmany(timeout_ms=300)
        for messages in batch.values():
            records.extend(messages)
        return records
    finally:
        await consumer.stop()


def envelopes(records: list) -> list[dict]:
    """The JSON envelopes among `records` (topics shared by tests also carry poison)."""
    parsed = []
    for record in records:
        try:
            parsed.append(json.loads(record.value))
        except (TypeError, ValueError):
            continue
    return parsed


async def produce(bootstrap: str, topic: str, value: bytes, *, key: bytes) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, value=value, key=key)
    finally:
        await producer.stop()


def unique(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


# Grievance handlers at each tier of the same chain (the demo people's grievance roles).
GRIEVANCE_CS_PHNOM_PENH_THMEI = Principal(
    sub="cs-120801-grievance",
    tier=Tier.CS,
    admin_code="120801",
    roles=frozenset({"viewer", "grievance.handler"}),
)
GRIEVANCE_CS_TUEK_THLA = Principal(
    sub="cs-120802-grievance",
    tier=Tier.CS,
    admin_code="120802",
    roles=frozenset({"viewer", "grievance.handler"}),
)
GRIEVANCE_DMK_SEN_SOK = Principal(
    sub="dmk-1208-grievance",
    tier=Tier.DMK,
    admin_code="1208",
    roles=frozenset({"viewer", "grievance.handler", "grievance.sensitive"}),
)
GRIEVANCE_CP_PHNOM_PENH = Principal(
    sub="cp-12-grievance",
    tier=Tier.CP,
    admin_code="12",
    roles=frozenset({"viewer", "grievance.handler", "grievance.sensitive"}),
)
GRIEVANCE_CP_BANTEAY_MEANCHEY = Principal(
    sub="cp-01-grievance",
    tier=Tier.CP,
    admin_code="01",
    roles=frozenset({"viewer", "grievance.handler"}),
)
GRIEVANCE_NATIONAL = Principal(
    sub="national-grievance",
    tier=Tier.NATIONAL,
    admin_code="",
    roles=frozenset({"viewer", "grievance.handler", "grievance.sensitive"}),
)
