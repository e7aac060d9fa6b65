"""Move dead-letter messages back to their topic, once the cause is fixed.

    python -m shared.dead_letters --bootstrap-servers "$KAFKA_BOOTSTRAP_SERVERS" \\
        sp.registry.household.dlq.grievance.households

Each message of `<topic>.dlq.<consumer>` goes back to `<topic>` with its key, value and
headers (the `x-dlq-*` headers replaced by `x-dlq-replayed-from`). Every consumer of the topic
sees it again; those that applied it already skip it (inbox), the one that failed applies it.
Progress is committed under the group `<dead-letter topic>.replay`, so a second run moves only
messages dead-lettered since; a run interrupted between a send and its commit sends a message
twice, which the inbox also absorbs.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from aiokafka import AIOKafkaConsumer, TopicPartition

from shared import kafka_security
from shared.kafka import TopicWatch, new_producer
from shared.kafka_security import KafkaSecurity, client_options

DLQ_MARK = ".dlq."


def original_topic(dead_letter_topic: str, headers: dict[str, bytes]) -> str:
    named = headers.get("x-dlq-original-topic")
    if named:
        return named.decode()
    if DLQ_MARK not in dead_letter_topic:
        raise ValueError(f"{dead_letter_topic} is not a dead-letter topic (<topic>.dlq.<consumer>)")
    return dead_letter_topic.split(DLQ_MARK, 1)[0]


async def move_back(
    bootstrap_servers: str, dead_letter_topic: str, *, idle_seconds: float = 2.0
) -> int:
    """Move every message not moved yet; returns how many were moved."""
    if DLQ_MARK not in dead_letter_topic:
        raise ValueError(f"{dead_letter_topic} is not a dead-letter topic (<topic>.dlq.<consumer>)")
    watch = TopicWatch(bootstrap_servers)
    try:
        partitions = (await watch.partitions()).get(dead_letter_topic)
    finally:
        await watch.close()
    if not partitions:
        return 0
    reader = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        group_id=f"{dead_letter_topic}.replay",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        **client_options(),
    )
    producer = new_producer(bootstrap_servers)
    await reader.start()
    await producer.start()
    moved = 0
    try:
        tps = [TopicPartition(dead_letter_topic, p) for p in range(partitions)]
        reader.assign(tps)
        while True:
            # Until nothing more comes (end offsets are not exact on every broker).
            batch = await reader.getmany(timeout_ms=int(idle_seconds * 1000), max_records=200)
            if not batch:
                return moved
            for tp, messages in batch.items():
                for message in messages:
                    headers = dict(message.headers or [])
                    topic = original_topic(dead_letter_topic, headers)
                    kept = [(k, v) for k, v in message.headers or [] if not k.startswith("x-dlq-")]
                    kept.append(("x-dlq-replayed-from", dead_letter_topic.encode()))
                    await producer.send_and_wait(
                        topic, value=message.value, key=message.key, headers=kept
                    )
                    moved += 1
                await reader.commit({tp: messages[-1].offset + 1})
    finally:
        await producer.stop()
        await reader.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m shared.dead_letters",
        description="Move dead-letter messages back to their topic (consumers skip duplicates).",
    )
    parser.add_argument("--bootstrap-servers", required=True, help="the Kafka brokers")
    parser.add_argument("topic", help="the dead-letter topic, <topic>.dlq.<service>.<consumer>")
    # It writes to another service's topic: with broker ACLs, log in as the admin user.
    parser.add_argument("--security-protocol", default="PLAINTEXT", help="e.g. SASL_SSL")
    parser.add_argument("--sasl-mechanism", default="SCRAM-SHA-512")
    parser.add_argument("--sasl-username", default="")
    parser.add_argument("--sasl-password-file", help="a file holding the password")
    parser.add_argument("--ssl-cafile", default="", help="the cluster's CA certificate")
    args = parser.parse_args(argv)
    password = ""
    if args.sasl_password_file:
        with open(args.sasl_password_file, encoding="utf-8") as file:
            password = file.read().strip()
    kafka_security.use(
        KafkaSecurity(
            protocol=args.security_protocol,
            mechanism=args.sasl_mechanism,
            username=args.sasl_username,
            password=password,
            cafile=args.ssl_cafile,
        )
    )
    moved = asyncio.run(move_back(args.bootstrap_servers, args.topic))
    print(f"{moved} messages moved from {args.topic} back to their topic.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
