"""Pre-create the platform's Kafka topics (runs inside the image, before the services).

    python deploy/kafka_topics.py list
    python deploy/kafka_topics.py create [--partitions N] [--replication-factor N]
                                         [--min-insync-replicas N] [EXTRA_TOPIC ...]

The topics are those of the event catalog in the code (`sp.<service>.<aggregate>`, see
`shared.events.catalog`), so the list follows the code; EXTRA_TOPIC adds others, such as a
consumer's dead-letter topic `<topic>.dlq.<service>.<consumer>`. Existing topics are left as
they are: this never changes partitions or settings.

Why: a service creates a missing topic itself, but always with replication factor 1
(`shared.kafka.ensure_topics`), which a production cluster must not get. Created here, the
topics have the replication factor and `min.insync.replicas` production needs.

The brokers come from KAFKA_BOOTSTRAP_SERVERS, the login from KAFKA_SECURITY_PROTOCOL,
KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD and KAFKA_SSL_CAFILE (the admin
user `sp-admin`, see deploy/kafka_acls.py); the defaults of the options from
KAFKA_TOPIC_PARTITIONS (3), KAFKA_TOPIC_REPLICATION_FACTOR (3) and
KAFKA_TOPIC_MIN_INSYNC_REPLICAS (2).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time


def catalog_topics() -> list[str]:
    try:
        from shared.events.catalog import platform_catalog
    except ImportError:  # an image built before the event catalog existed
        print("no event catalog in this image; only the topics given are created", flush=True)
        return []
    return platform_catalog().topics()


def security_options() -> dict:
    """The admin client's login, as every platform client builds it (shared.kafka_security)."""
    from shared.kafka_security import KafkaSecurity

    read = os.environ.get
    return KafkaSecurity(
        protocol=read("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT"),
        mechanism=read("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512"),
        username=read("KAFKA_SASL_USERNAME", ""),
        password=read("KAFKA_SASL_PASSWORD", ""),
        cafile=read("KAFKA_SSL_CAFILE", ""),
    ).client_options()


async def create(
    bootstrap: str,
    topics: list[str],
    partitions: int,
    replication: int,
    min_insync: int,
    broker_wait: float,
) -> int:
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic
    from aiokafka.errors import KafkaError, TopicAlreadyExistsError, for_code

    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, request_timeout_ms=15_000, **security_options()
    )
    deadline = time.monotonic() + broker_wait
    while True:  # the brokers may still be starting
        try:
            await admin.start()
            break
        except KafkaError as exc:
            if time.monotonic() > deadline:
                print(f"no broker at {bootstrap} after {broker_wait:.0f}s: {exc}", file=sys.stderr)
                return 1
            print(f"waiting for the brokers at {bootstrap} ({type(exc).__name__})", flush=True)
            await asyncio.sleep(3)
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in topics if t not in existing]
        for topic in sorted(set(topics) & existing):
            print(f"exists   {topic}", flush=True)
        if not missing:
            return 0
        response = await admin.create_topics(
            [
                NewTopic(
                    topic,
                    num_partitions=partitions,
                    replication_factor=replication,
                    topic_configs={"min.insync.replicas": str(min_insync)},
                )
                for topic in missing
            ]
        )
        # The admin client does not raise for a topic the broker refused: read the answer.
        failed = 0
        for topic, code, *message in response.topic_errors:
            if code == 0:
                print(f"created  {topic} ({partitions} partitions, RF {replication})", flush=True)
            elif for_code(code) is TopicAlreadyExistsError:
                print(f"exists   {topic} (created meanwhile)", flush=True)
            else:
                failed += 1
                detail = message[0] if message and message[0] else for_code(code).__name__
                print(f"FAILED   {topic}: {detail}", file=sys.stderr, flush=True)
        return 1 if failed else 0
    finally:
        await admin.close()


def main(argv: list[str] | None = None) -> int:
    env = os.environ.get
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="print the catalog's topics")
    make = sub.add_parser("create", help="create the topics that do not exist yet")
    make.add_argument("extra", nargs="*", metavar="EXTRA_TOPIC")
    make.add_argument("--partitions", type=int, default=int(env("KAFKA_TOPIC_PARTITIONS", "3")))
    make.add_argument(
        "--replication-factor",
        type=int,
        default=int(env("KAFKA_TOPIC_REPLICATION_FACTOR", "3")),
    )
    make.add_argument(
        "--min-insync-replicas",
        type=int,
        default=int(env("KAFKA_TOPIC_MIN_INSYNC_REPLICAS", "2")),
    )
    make.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for brokers")
    args = parser.parse_args(argv)

    topics = catalog_topics()
    if args.command == "list":
        for topic in topics:
            print(topic)
        return 0
    topics = list(dict.fromkeys([*topics, *args.extra]))
    if not topics:
        print("no topics to create", flush=True)
        return 0
    if args.min_insync_replicas > args.replication_factor:
        parser.error("--min-insync-replicas cannot exceed --replication-factor")
    bootstrap = env("KAFKA_BOOTSTRAP_SERVERS", "")
    if not bootstrap:
        parser.error("KAFKA_BOOTSTRAP_SERVERS is not set")
    return asyncio.run(
        create(
            bootstrap,
            topics,
            args.partitions,
            args.replication_factor,
            args.min_insync_replicas,
            args.timeout,
        )
    )


if __name__ == "__main__":
    sys.exit(main())
