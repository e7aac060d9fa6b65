"""`make run`'s stack: five processes come up ready, and none is left behind after a stop."""

from __future__ import annotations

import time

import httpx
import psutil

from devstack.postgres import free_port
from devstack.run import Stack
from shared.platform import SERVICES


def test_the_stack_starts_every_process_ready_and_stops_them_all(infrastructure, monkeypatch):
    for service in SERVICES:
        monkeypatch.setenv(f"{service.upper()}_DATABASE_URL", infrastructure.database_url(service))
        monkeypatch.setenv(f"SP_{service.upper()}_PORT", str(free_port()))
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", infrastructure.bootstrap_servers)
    monkeypatch.setenv("SP_GATEWAY_PORT", str(free_port()))
    monkeypatch.setenv("GATEWAY_LOG_JSON", "true")

    stack = Stack()
    try:
        urls = stack.start_infrastructure()
        assert stack.postgres is None and stack.broker is None, "given URLs are used as they are"
        stack.migrate(urls)
        stack.start_processes()
        stack.wait_ready(timeout=60)
        gateway = next(p for p in stack.procs if p.name == "gateway")
        health = httpx.get(f"{gateway.url}/health", timeout=10).json()
        direct = httpx.get(f"{stack.procs[0].url}/openapi.json", timeout=5)
        protected = httpx.get(f"{stack.procs[0].url}/nothing-public-here", timeout=5)

        # A service that dies is started again by the launcher, the others untouched.
        registry = next(p for p in stack.procs if p.name == "registry")
        first_pid = registry.process.pid
        others = {p.name: p.process.pid for p in stack.procs if p is not registry}
        registry.process.kill()
        registry.process.wait()
        deadline = time.monotonic() + 60
        while registry.process.pid == first_pid and time.monotonic() < deadline:
            stack.supervise()
            time.sleep(0.2)
        stack.wait_ready(timeout=60)
        restarted = httpx.get(f"{registry.url}/ready", timeout=5)
        pids = [first_pid, *(p.process.pid for p in stack.procs)]
    finally:
        stack.stop()

    assert health["status"] == "ok"
    assert set(health["services"]) == set(SERVICES)
    for service in SERVICES:
        assert health["services"][service] == {
            "status": "ready",
            "checks": {"database": "ok", "broker": "ok", "consumers": "ok"},
        }
    assert direct.status_code == 200
    assert registry.process.pid != first_pid and registry.restarts == 1
    assert restarted.status_code == 200
    assert {p.name: p.process.pid for p in stack.procs if p is not registry} == others
    assert protected.status_code == 401, "a service reached directly answers nothing but 401"
    assert protected.headers["content-type"] == "application/problem+json"
    assert not [
        pid
        for pid in pids
        if psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    ], "orphans left"
