"""The gateway's app: `uvicorn gateway.main:app`.

Its own endpoints (`/health`, `/ready`, `/openapi.json`, `/docs`, `/redoc`, `/asyncapi.json`,
`/metrics`, and the development issuer when enabled) are FastAPI routes; `/<service>/...` goes
to the proxy, a plain ASGI app that the app hands each such request before FastAPI's own
middleware stack (GatewayApp).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from functools import cache
from pathlib import Path

import httpx
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.addresses import TrustedProxies
from gateway.config import Settings, get_settings
from gateway.identity.dev_issuer import DevIssuer, dev_issuer_router
from gateway.identity.jwks import JwksCache
from gateway.identity.tokens import TokenVerifier
from gateway.openapi import ApiDocument
from gateway.policy import Policy
from gateway.proxy import ProxyApp
from gateway.ratelimit import RateLimiter
from gateway.upstreams import CircuitBreaker, Upstream
from shared.events.asyncapi import asyncapi_document
from shared.events.catalog import platform_catalog
from shared.observability import RequestContextMiddleware, configure_logging, metrics_endpoint
from shared.principal import InternalTokenSigner
from shared.problems import install_problem_handlers
from shared.runtime import settle_heap

VERSION = "0.1.0"
STATIC_DIR = Path(__file__).parent / "static"


@cache
def _asyncapi() -> dict:
    return asyncapi_document(platform_catalog(), version=VERSION)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    policy = Policy.load(settings.policy_file, set(settings.upstreams()))
    upstreams = {
        name: Upstream(
            name,
            url,
            max_connections=settings.upstream_max_connections,
            breaker=CircuitBreaker(
                threshold=settings.breaker_failure_threshold,
                reset_after=settings.breaker_reset_seconds,
            ),
        )
        for name, url in settings.upstreams().items()
    }
    dev_issuer = (
        DevIssuer(settings.dev_issuer_url, settings.oidc_audience)
        if settings.dev_issuer_enabled
        else None
    )
    jwks_client = httpx.AsyncClient(timeout=5.0)
    jwks = JwksCache(
        settings.oidc_jwks_url or None,
        client=jwks_client,
        static_keys=[dev_issuer.jwk()] if dev_issuer else None,
    )
    verifier = TokenVerifier(
        issuer=settings.issuer,
        audience=settings.oidc_audience,
        jwks=jwks,
        leeway=settings.token_leeway_seconds,
    )
    proxy = ProxyApp(
        policy=policy,
        upstreams=upstreams,
        verifier=verifier,
        signer=InternalTokenSigner(settings.internal_token_private_key),
        limiter=RateLimiter(),
        max_body_bytes=settings.max_body_bytes,
        default_timeout=settings.upstream_timeout_seconds,
        trusted_proxies=TrustedProxies(settings.trusted_proxies),
    )
    token_url = (
        f"{settings.dev_issuer_url}/token"
        if dev_issuer
        else f"{settings.oidc_issuer}/protocol/openid-connect/token"
    )
    api_document = ApiDocument(
        upstreams,
        policy,
        ttl=settings.openapi_cache_seconds,
        title="Social protection platform API",
        version=VERSION,
        token_url=token_url,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging("gateway", level=settings.log_level, as_json=settings.log_json)
        if settings.oidc_jwks_url:
            with contextlib.suppress(Exception):
                await jwks.refresh()  # warm the cache; an unknown kid refetches later anyway
        settle_heap()
        try:
            yield
        finally:
            await asyncio.gather(*(u.aclose() for u in upstreams.values()))
            await jwks_client.aclose()

    app = GatewayApp(
        title="Social protection platform gateway",
        lifespan=lifespan,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.policy = policy
    app.state.upstreams = upstreams
    app.state.proxy = proxy
    install_problem_handlers(app)

    @app.get("/health")
    async def health() -> JSONResponse:
        """Readiness of every upstream service, with its database and broker checks."""
        results = await asyncio.gather(*(upstream_readiness(u) for u in upstreams.values()))
        services = dict(zip(upstreams, results, strict=True))
        ok = all(s.get("status") == "ready" for s in services.values())
        # Always 200 while the gateway itself lives: an upstream being down must not make an
        # orchestrator restart the gateway. The body says which services are ready.
        return JSONResponse({"status": "ok" if ok else "degraded", "services": services})

    @app.get("/ready")
    async def ready() -> dict:
        return {"status": "ready", "service": "gateway"}

    @app.get("/openapi.json")
    async def openapi() -> JSONResponse:
        return JSONResponse(await api_document.document())

    # Swagger UI and ReDoc from the gateway's own files (gateway/static): no CDN, so the
    # documentation works on an offline network.
    app.mount("/static/docs", StaticFiles(directory=STATIC_DIR), name="docs-assets")

    @app.get("/docs")
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="Social protection platform API",
            swagger_js_url="/static/docs/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/docs/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/docs/swagger-ui/favicon-32x32.png",
        )

    @app.get("/redoc")
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url="/openapi.json",
            title="Social protection platform API",
            redoc_js_url="/static/docs/redoc/redoc.standalone.js",
            redoc_favicon_url="/static/docs/swagger-ui/favicon-32x32.png",
            with_google_fonts=False,
        )

    @app.get("/asyncapi.json")
    async def asyncapi() -> JSONResponse:
        return JSONResponse(_asyncapi())

    app.add_route("/metrics", metrics_endpoint, include_in_schema=False)
    if dev_issuer is not None:
        app.include_router(dev_issuer_router(dev_issuer))

    # Proxied requests skip FastAPI's router and its whole middleware stack: the proxy has its
    # own problem handling, and each layer costs CPU on the hot path (bench/gateway_proxy.py).
    # What they keep: the request context (ids, metrics), CORS, and the last-resort 500 problem
    # (the request context's `on_error`: one layer, not two, around every proxied request).
    proxied: ASGIApp = proxy
    if settings.cors_origins:
        cors = {
            "allow_origins": settings.cors_origins,
            "allow_methods": ["*"],
            "allow_headers": ["*"],
            "expose_headers": ["ETag", "Location", "X-Request-ID", "Retry-After"],
        }
        proxied = CORSMiddleware(proxied, **cors)
        app.add_middleware(CORSMiddleware, **cors)
    last_resort = app.exception_handlers[Exception]
    app.add_middleware(RequestContextMiddleware, service="gateway", on_error=last_resort)
    app.proxied = RequestContextMiddleware(proxied, service="gateway", on_error=last_resort)
    app.proxied_prefixes = tuple(f"/{name}/" for name in upstreams)
    return app


class GatewayApp(FastAPI):
    """FastAPI for the gateway's own routes; `/<service>/...` goes straight to the proxy.

    The dispatch happens before FastAPI's middleware stack (server errors, telemetry, body
    limit, the middleware added above), which a proxied request would otherwise cross for
    nothing: the proxied stack has its own request context and server-error layer."""

    proxied: ASGIApp | None = None
    proxied_prefixes: tuple[str, ...] = ()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            self.proxied is not None
            and scope["type"] == "http"
            and scope["path"].startswith(self.proxied_prefixes)
        ):
            scope["app"] = self
            await self.proxied(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


async def upstream_readiness(upstream: Upstream) -> dict:
    try:
        response = await upstream.client.get(f"{upstream.base_url}/ready", timeout=3)
        body = response.json()
        return {"status": body.get("status", "unknown"), "checks": body.get("checks", {})}
    except (httpx.HTTPError, ValueError) as exc:
        return {"status": "unreachable", "error": type(exc).__name__}


app = create_app()
