"""Gateway fixtures: the stand-in service as a real process, the gateway in-process or as one."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from devstack.postgres import free_port
from devstack.process import die_with_parent
from gateway.config import Settings
from gateway.identity.dev_issuer import DevIssuer
from gateway.main import create_app
from tests.harness import ROOT, running

POLICY = Path(__file__).parent / "policy.yml"
ISSUER = "http://gateway.test/dev/idp"


def start_process(
    args: list[str], env: dict[str, str], port: int, ready_path: str, timeout: float = 30
) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            *args,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=die_with_parent,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{args[0]} exited with {process.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}{ready_path}", timeout=1).status_code < 500:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise TimeoutError(f"{args[0]} did not start")


def stop_process(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="session")
def upstream_url(infrastructure) -> Iterator[str]:
    port = free_port()
    process = start_process(
        ["tests.gateway.upstream:app"],
        {
            "UPSTREAM_DATABASE_URL": infrastructure.database_url("platform"),
            "KAFKA_BOOTSTRAP_SERVERS": infrastructure.bootstrap_servers,
            "UPSTREAM_LOG_JSON": "false",
        },
        port,
        "/health",
    )
    yield f"http://127.0.0.1:{port}"
    stop_process(process)


def gateway_settings(upstream_url: str, **overrides) -> Settings:
    closed = f"http://127.0.0.1:{free_port()}"
    values = {
        "registry_url": upstream_url,
        "grievance_url": closed,
        "isaf_url": closed,
        "budget_url": closed,
        "dev_issuer_enabled": True,
        "dev_issuer_url": ISSUER,
        "policy_file": POLICY,
        "log_json": False,
        "breaker_failure_threshold": 3,
        "breaker_reset_seconds": 1.0,
        "openapi_cache_seconds": 0.0,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
async def gateway(upstream_url):
    app = create_app(gateway_settings(upstream_url))
    async with running(app):
        yield app


@pytest.fixture
def issuer() -> DevIssuer:
    return DevIssuer(ISSUER, "sp-platform")


def gateway_client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("203.0.113.7", 5000)),
        base_url="http://gateway.test",
    )
