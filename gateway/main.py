"""The gateway's app: `uvicorn gateway.main:app`."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from gateway.config import Settings, get_settings
from shared.observability import RequestContextMiddleware, configure_logging, metrics_endpoint
from shared.problems import install_problem_handlers


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging("gateway", level=settings.log_level, as_json=settings.log_json)
        async with httpx.AsyncClient(timeout=httpx.Timeout(5.0)) as client:
            app.state.http = client
            yield

    app = FastAPI(title="Social protection platform API", lifespan=lifespan)
    app.state.settings = settings
    install_problem_handlers(app)
    app.add_middleware(RequestContextMiddleware, service="gateway")

    @app.get("/health", include_in_schema=False)
    async def health() -> JSONResponse:
        """Readiness of every upstream service, with its database and broker checks."""
        upstreams = settings.upstreams()
        results = await asyncio.gather(
            *(upstream_readiness(app.state.http, url) for url in upstreams.values())
        )
        services = dict(zip(upstreams, results, strict=True))
        ok = all(s.get("status") == "ready" for s in services.values())
        # Always 200 while the gateway itself lives: an upstream being down must not make an
        # orchestrator restart the gateway. The body says which services are ready.
        return JSONResponse({"status": "ok" if ok else "degraded", "services": services})

    @app.get("/ready", include_in_schema=False)
    async def ready() -> dict:
        return {"status": "ready", "service": "gateway"}

    app.add_route("/metrics", metrics_endpoint, include_in_schema=False)
    return app


async def upstream_readiness(client: httpx.AsyncClient, base_url: str) -> dict:
    try:
        response = await client.get(f"{base_url}/ready")
        body = response.json()
        return {"status": body.get("status", "unknown"), "checks": body.get("checks", {})}
    except (httpx.HTTPError, ValueError) as exc:
        return {"status": "unreachable", "error": type(exc).__name__}


app = create_app()
