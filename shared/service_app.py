"""The app factory every domain service uses, so each gets the same platform behaviour.

It wires settings, logging, the database, the internal-token check on every API route,
problem documents, request context, metrics, `/health` and `/ready`, the outbox relay and the
service's event consumers, all started and stopped by the app's lifespan.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import timedelta

from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from shared import kafka_security
from shared.clock import SYSTEM_CLOCK, Clock, ClockMiddleware, using
from shared.consumer import ConsumerContext, ConsumerRunner, EventConsumer
from shared.db.engine import Database
from shared.db.server_version import UnsupportedServerVersion
from shared.http.idempotency import RETENTION_SQL as IDEMPOTENCY_RETENTION_SQL
from shared.http.openapi import install_openapi
from shared.http.params import refuse_unknown_query
from shared.kafka import BrokerProbe
from shared.observability import RequestContextMiddleware, configure_logging, metrics_endpoint
from shared.outbox.relay import OutboxRelay
from shared.principal import InternalTokenGuard, InternalTokenVerifier, current_principal
from shared.problems import (
    install_problem_handlers,
    install_storage_problem_handlers,
)
from shared.runtime import settle_heap
from shared.settings import ServiceSettings
from shared.text import ControlCharacterGuard

log = logging.getLogger(__name__)


def operation_id(service: str):
    """Stable operation ids (`registry_list_households`) that client generators can rely on."""

    def generate(route: APIRoute) -> str:
        return f"{service}_{route.name}"

    return generate


def create_service_app(
    settings: ServiceSettings,
    *,
    title: str,
    description: str,
    routers: Sequence[APIRouter] = (),
    consumers: Sequence[EventConsumer] = (),
    background: Sequence[Callable[[FastAPI], Awaitable[None]]] = (),
    version: str = "0.1.0",
    clock: Clock | None = None,
) -> FastAPI:
    service = settings.service_name

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(service, level=settings.log_level, as_json=settings.log_json)
        # Every Kafka client of this process (relay, consumers, probe) logs in this way.
        kafka_security.use(settings.kafka_security())
        database = Database(
            settings.database_url, pool_size=settings.database_pool_size, application_name=service
        )
        app.state.database = database
        await check_database_server(database, service)
        app.state.broker_probe = BrokerProbe(settings.kafka_bootstrap_servers)
        # What the lifespan starts (relay, consumers, background work) runs on the app's clock:
        # a task keeps the context it was created in.
        with using(app.state.clock):
            relay, runners, tasks = _start_workers(app, database)
        settle_heap()
        log.info("%s started", service)
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            for runner in runners:
                await runner.stop()
            if relay is not None:
                await relay.stop()
            await app.state.broker_probe.close()
            await database.dispose()

    def _start_workers(app: FastAPI, database: Database):
        relay = None
        if settings.relay_enabled:
            relay = OutboxRelay(
                service=service,
                database_url=settings.database_url,
                bootstrap_servers=settings.kafka_bootstrap_servers,
                poll_interval=settings.outbox_poll_interval_seconds,
                retention=timedelta(hours=settings.outbox_retention_hours),
                topic_partitions=settings.kafka_topic_partitions,
                topic_replication=settings.kafka_topic_replication_factor,
                enable_idempotence=settings.kafka_enable_idempotence,
                maintenance_sql=(IDEMPOTENCY_RETENTION_SQL,),
            )
            relay.start()
        app.state.relay = relay
        runners = []
        if settings.consumers_enabled:
            for consumer in consumers:
                runner = ConsumerRunner(
                    consumer,
                    database=database,
                    bootstrap_servers=settings.kafka_bootstrap_servers,
                    topic_partitions=settings.kafka_topic_partitions,
                    topic_replication=settings.kafka_topic_replication_factor,
                    context=ConsumerContext(settings=settings, clock=app.state.clock),
                )
                runner.start()
                runners.append(runner)
        app.state.consumer_runners = runners
        tasks = [
            asyncio.create_task(task(app), name=f"{service}-{getattr(task, '__name__', 'task')}")
            for task in background
        ]
        app.state.background_tasks = tasks
        return relay, runners, tasks

    app = FastAPI(
        title=title,
        description=description,
        version=version,
        lifespan=lifespan,
        generate_unique_id_function=operation_id(service),
    )
    install_openapi(app)
    app.state.settings = settings
    app.state.clock = clock or SYSTEM_CLOCK
    verifier = InternalTokenVerifier(settings.internal_token_public_key, audience=service)
    install_problem_handlers(app)
    install_storage_problem_handlers(app)
    # Inside the token check: only the gateway's requests are read for control characters.
    app.add_middleware(ControlCharacterGuard)
    app.add_middleware(InternalTokenGuard, verifier=verifier)
    app.add_middleware(
        RequestContextMiddleware, service=service, on_error=app.exception_handlers[Exception]
    )
    app.add_middleware(ClockMiddleware)

    @app.get("/health", tags=["operations"], include_in_schema=False)
    async def health() -> dict:
        return {"status": "ok", "service": service}

    @app.get("/ready", tags=["operations"], include_in_schema=False)
    async def ready() -> JSONResponse:
        checks = await readiness_checks(app)
        ok = all(v == "ok" for v in checks.values())
        status = "ready" if ok else "not ready"
        if not ok and checks["database"] == checks["broker"] == "ok":
            status = "degraded"  # reachable, but a consumer is stuck
        return JSONResponse(
            {"status": status, "service": service, "checks": checks},
            status_code=200 if ok else 503,
        )

    app.add_route("/metrics", metrics_endpoint, include_in_schema=False)

    for router in routers:
        app.include_router(
            router, dependencies=[Depends(current_principal), Depends(refuse_unknown_query)]
        )
    return app


async def check_database_server(database: Database, service: str) -> None:
    """Refuse to start on a PostgreSQL older than 18 (UnsupportedServerVersion names the server
    and its version). A server not reachable yet is checked by /ready instead, which stays 503
    until the database answers and passes the check."""
    try:
        await asyncio.wait_for(database.check_server_version(), 10)
    except UnsupportedServerVersion as exc:
        log.critical("%s cannot start: %s", service, exc)
        await database.dispose()
        raise
    except Exception as exc:
        log.warning(
            "%s: the database server could not be checked at startup (%s); /ready checks it",
            service,
            type(exc).__name__,
        )


async def readiness_checks(app: FastAPI) -> dict[str, str]:
    async def database() -> str:
        try:
            await asyncio.wait_for(app.state.database.ping(), 3)
            return "ok"
        except Exception as exc:
            return f"unavailable: {type(exc).__name__}"

    async def broker() -> str:
        try:
            await app.state.broker_probe.check(timeout=3)
            return "ok"
        except Exception as exc:
            return f"unavailable: {type(exc).__name__}"

    db_state, broker_state = await asyncio.gather(database(), broker())
    return {"database": db_state, "broker": broker_state, "consumers": consumer_progress(app)}


def consumer_progress(app: FastAPI) -> str:
    """ "ok", or which consumers handled nothing for `consumer_stall_seconds` while messages
    wait for them (lag and seconds since progress are also metrics)."""
    limit = app.state.settings.consumer_stall_seconds
    stalled = [
        f"{runner.consumer.group} (lag {sum(runner.lag.values())}, "
        f"no progress for {runner.seconds_since_progress():.0f}s)"
        for runner in getattr(app.state, "consumer_runners", ())
        if runner.stalled(limit)
    ]
    return "ok" if not stalled else "stalled: " + ", ".join(stalled)
