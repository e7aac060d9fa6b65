"""Request ids, trace context, JSON logs and Prometheus metrics for every process."""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.context import (
    child_traceparent,
    new_request_id,
    request_id_var,
    traceparent_var,
    valid_request_id,
)

REQUESTS = Counter(
    "sp_http_requests_total", "HTTP requests", ["service", "method", "route", "status"]
)
LATENCY = Histogram(
    "sp_http_request_duration_seconds",
    "HTTP request duration",
    ["service", "method", "route"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": request_id_var.get(),
            "traceparent": traceparent_var.get(),
        }
        for key in ("method", "path", "status", "duration_ms"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps({k: v for k, v in entry.items() if v is not None}, ensure_ascii=False)


def configure_logging(service: str, *, level: str = "INFO", as_json: bool = True) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if as_json:
        handler.setFormatter(JsonFormatter(service))
    else:
        handler.setFormatter(
            logging.Formatter(f"%(asctime)s {service} %(levelname)s %(name)s: %(message)s")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # uvicorn's own access log would repeat ours without the request id.
    logging.getLogger("uvicorn.access").disabled = True
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("aiokafka").setLevel(max(logging.WARNING, root.level))


access_log = logging.getLogger("sp.access")


ErrorHandler = Callable[[Request, Exception], Awaitable[Response]]


class RequestContextMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware), so streaming bodies pass through untouched.

    With `on_error`, it is also the last resort for an exception the app let through, inside
    the request's context: `on_error` logs it (with the request id) and its answer (a 500
    problem document) goes out with X-Request-ID. starlette's ServerErrorMiddleware, outside
    this layer, did the same after the context was reset: the client's 500 had no request id
    and the logged traceback none either. When the response had already started, the
    exception goes on to the server, which closes the connection (the answer is cut short).
    The gateway's proxied requests have no other last resort (one wrapper of `send` fewer on
    the hot path); the services keep starlette's for what happens outside this layer."""

    def __init__(self, app: ASGIApp, *, service: str, on_error: ErrorHandler | None = None) -> None:
        self.app = app
        self.service = service
        self.on_error = on_error
        # Label lookups cost more than the counting itself; keep the children per label set.
        self._metrics: dict[tuple[str, str, int], tuple[object, object]] = {}

    def _observe(self, method: str, template: str, status: int, elapsed: float) -> None:
        key = (method, template, status)
        children = self._metrics.get(key)
        if children is None:
            children = (
                REQUESTS.labels(self.service, method, template, str(status)),
                LATENCY.labels(self.service, method, template),
            )
            self._metrics[key] = children
        children[0].inc()
        children[1].observe(elapsed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming_id = incoming_trace = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                incoming_id = value.decode("latin-1")
            elif name == b"traceparent":
                incoming_trace = value.decode("latin-1")
        request_id = valid_request_id(incoming_id) or new_request_id()
        traceparent = child_traceparent(incoming_trace)
        rid_token = request_id_var.set(request_id)
        tp_token = traceparent_var.set(traceparent)
        context_headers = [
            (b"x-request-id", request_id.encode()),
            (b"traceparent", traceparent.encode()),
        ]
        status = 500
        response_started = False
        started = time.perf_counter()

        async def send_with_context(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                message["headers"] = [*message.get("headers", ()), *context_headers]
            await send(message)

        try:
            await self.app(scope, receive, send_with_context)
        except Exception as exc:
            if self.on_error is None or response_started:
                raise
            answer = await self.on_error(Request(scope), exc)
            await answer(scope, receive, send_with_context)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or scope.get("sp.route") or "unmatched"
            self._observe(scope["method"], template, status, elapsed)
            if template not in ("/health", "/metrics", "/ready") and access_log.isEnabledFor(
                logging.INFO
            ):
                access_log.info(
                    "%s %s %s",
                    scope["method"],
                    scope["path"],
                    status,
                    extra={
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 2),
                    },
                )
            request_id_var.reset(rid_token)
            traceparent_var.reset(tp_token)


async def metrics_endpoint(_request: Request) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
