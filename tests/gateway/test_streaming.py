"""Large bodies stream through a running gateway without being held whole in memory."""

from __future__ import annotations

import asyncio

import httpx
import psutil
import pytest

from devstack.postgres import free_port
from gateway.identity.dev_issuer import DevIssuer
from tests.gateway.conftest import POLICY, start_process, stop_process

MEGABYTES = 200


@pytest.fixture(scope="module")
def gateway_process(upstream_url):
    port = free_port()
    issuer_url = f"http://127.0.0.1:{port}/dev/idp"
    process = start_process(
        ["gateway.main:app"],
        {
            "GATEWAY_REGISTRY_URL": upstream_url,
            "GATEWAY_DEV_ISSUER_ENABLED": "true",
            "GATEWAY_DEV_ISSUER_URL": issuer_url,
            "GATEWAY_POLICY_FILE": str(POLICY),
            "GATEWAY_LOG_JSON": "false",
        },
        port,
        "/ready",
    )
    yield process, f"http://127.0.0.1:{port}", DevIssuer(issuer_url, "sp-platform")
    stop_process(process)


async def peak_rss_during(process_id: int, transfer) -> tuple[int, int, object]:
    gateway = psutil.Process(process_id)
    before = gateway.memory_info().rss
    peak = before
    task = asyncio.create_task(transfer())
    while not task.done():
        peak = max(peak, gateway.memory_info().rss)
        await asyncio.sleep(0.02)
    return before, peak, task.result()


async def test_a_large_upload_streams_through(gateway_process):
    process, url, issuer = gateway_process
    headers = {"Authorization": f"Bearer {issuer.person_token('national.officer')}"}
    chunk = b"z" * (1024 * 1024)

    async def body():
        for _ in range(MEGABYTES):
            yield chunk

    async def upload():
        async with httpx.AsyncClient(timeout=120) as client:
            return await client.post(f"{url}/registry/upload", content=body(), headers=headers)

    before, peak, response = await peak_rss_during(process.pid, upload)
    assert response.status_code == 200, response.text
    assert response.json() == {"received": MEGABYTES * len(chunk)}
    assert peak - before < 64 * 1024 * 1024, f"gateway grew by {(peak - before) >> 20} MiB"


async def test_a_large_download_streams_through(gateway_process):
    process, url, issuer = gateway_process
    headers = {"Authorization": f"Bearer {issuer.person_token('national.officer')}"}

    async def download():
        received = 0
        async with (
            httpx.AsyncClient(timeout=120) as client,
            client.stream(
                "GET", f"{url}/registry/big", params={"megabytes": MEGABYTES}, headers=headers
            ) as response,
        ):
            assert response.status_code == 200
            async for part in response.aiter_raw():
                received += len(part)
        return received

    before, peak, received = await peak_rss_during(process.pid, download)
    assert received == MEGABYTES * 1024 * 1024
    assert peak - before < 64 * 1024 * 1024, f"gateway grew by {(peak - before) >> 20} MiB"
