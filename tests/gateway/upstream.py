"""A stand-in service behind the gateway in its tests, run as a real uvicorn process.

It is built with the platform's own service factory (so it verifies the internal token like
every service) and has endpoints that echo what arrived, stream large bodies, answer slowly
or fail, which is what the gateway's tests need to observe.
"""

from __future__ import annotations

import asyncio
import os
from typing import ClassVar

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic_settings import SettingsConfigDict

from shared.principal import PrincipalDep
from shared.service_app import create_service_app
from shared.settings import ServiceSettings


class UpstreamSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="UPSTREAM_", extra="ignore")
    service_name: ClassVar[str] = os.environ.get("UPSTREAM_SERVICE", "registry")


router = APIRouter()


@router.get("/things")
async def list_things(principal: PrincipalDep, request: Request) -> dict:
    return {
        "principal": principal.model_dump(mode="json"),
        "headers": dict(request.headers.items()),
    }


@router.post("/things", status_code=201)
async def create_thing(principal: PrincipalDep, request: Request) -> dict:
    return {"created_by": principal.sub, "body": await request.json()}


@router.get("/things/{thing_id}")
async def get_thing(thing_id: str, principal: PrincipalDep) -> dict:
    return {"id": thing_id, "principal": principal.sub}


@router.post("/public/feedback", status_code=202)
async def public_feedback(principal: PrincipalDep) -> dict:
    return {"anonymous": principal.is_anonymous, "sub": principal.sub}


@router.get("/things-with-cookie")
async def set_cookie() -> JSONResponse:
    response = JSONResponse({"ok": True})
    response.set_cookie("session", "alice-secret")
    return response


@router.get("/moved")
async def moved(to: str, request: Request) -> JSONResponse:
    """A redirect as a service would give it: its own path, or its own absolute address."""
    location = str(request.base_url).rstrip("/") + to if to.startswith("/abs") else to
    return JSONResponse({}, status_code=303, headers={"Location": location})


@router.get("/slow")
async def slow(seconds: float) -> dict:
    await asyncio.sleep(seconds)
    return {"slept": seconds}


@router.get("/fail")
async def fail() -> JSONResponse:
    return JSONResponse({"detail": "database password is hunter2"}, status_code=500)


@router.get("/big")
async def big(megabytes: int) -> StreamingResponse:
    chunk = b"x" * (1024 * 1024)

    async def body():
        for _ in range(megabytes):
            yield chunk

    return StreamingResponse(
        body(),
        media_type="application/octet-stream",
        headers={"content-length": str(megabytes * len(chunk))},
    )


@router.post("/upload")
async def upload(request: Request) -> dict:
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
    return {"received": size}


app = create_service_app(
    UpstreamSettings(relay_enabled=False, consumers_enabled=False),
    title="Stand-in",
    description="Gateway test upstream",
    routers=[router],
)
