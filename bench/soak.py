"""Soak: a mixed workload through the gateway for a set time, on a platform of its own.

    python -m bench.soak [--seconds 60] [--scale 1.0] [--keep]

Starts an embedded PostgreSQL (durable, `.local/soak/postgres`, emptied each run unless
`--keep`) and a Tansu broker on free ports, then the four services and the gateway as
processes exactly as `make run` does (`devstack.run.Stack`, logs in `.local/soak/logs`), and
drives the gateway with the development issuer's tokens, one paced client per person:

| client | does | rate (x `--scale`) |
|---|---|---|
| cs.phnom-penh-thmei | registers households, lists them, reads its grievance worklist | 8/s |
| cs.tuek-thla | registers households, lists them, records grievances at the commune office | 8/s |
| dmk.sen-sok | verifies the district's pending households (read for the ETag, then verify) | 4/s |
| national.officer | lists households and reads the household report | 4/s |
| a citizen (no login) | submits a grievance and tracks it by code | 0.8/s and 2/s |

(The rates stay under the gateway's limits: 50/s per person, 1/s and 5/s per address for
citizens.) It prints throughput, p50/p99 per kind of request, every error (a 4xx or 5xx; a
429 too, as it means the workload overran a limit), each process's memory (RSS; PostgreSQL:
the server and all its backends) after a warm-up and at the end, and whether the events
reached their consumer: the households the registry holds against those the grievance
service learned from its events. Asserts nothing; targets: zero errors, memory growth under
10 %. `make bench-soak` runs it (`SECONDS=n`); use a small `--seconds` on a shared machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import asyncpg
import httpx
import psutil

import devstack.run as devstack_run
from devstack.broker import TansuBroker
from devstack.postgres import EmbeddedPostgres, create_databases, free_port
from gateway.identity.dev_issuer import DevIssuer
from shared.clock import today
from shared.db.engine import asyncpg_dsn
from shared.platform import SERVICES

ROOT = Path(__file__).resolve().parent.parent
SOAK = ROOT / ".local" / "soak"


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    samples: list[str] = field(default_factory=list)

    def record(self, kind: str, response: httpx.Response, seconds: float, ok: set[int]) -> None:
        self.latencies[kind].append(seconds)
        if response.status_code not in ok:
            key = f"{kind} {response.status_code}"
            self.errors[key] += 1
            if len(self.samples) < 5:
                self.samples.append(f"{key}: {response.text[:200]}")


def latin_letters(n: int) -> str:
    """1 -> "B", 26 -> "BA": names hold letters only."""
    letters = ""
    while True:
        n, digit = divmod(n, 26)
        letters = chr(ord("A") + digit) + letters
        if not n:
            return letters.capitalize()


def household_body(village: str, n: int) -> dict:
    born = (today() - timedelta(days=30 * 365)).isoformat()
    return {
        "village_code": village,
        "address": f"Soak street {n}",
        "members": [
            {
                "family_name_km": "សុខ",
                "given_name_km": "ចាន់ថា",
                "family_name_latin": "Sok",
                "given_name_latin": "Soak " + latin_letters(n),
                "sex": "female",
                "birth_date": born,
                "relationship": "head",
            }
        ],
    }


class Workload:
    def __init__(self, gateway: str, issuer: DevIssuer, results: Results) -> None:
        self.gateway = gateway
        self.issuer = issuer
        self.results = results
        self.counter = 0
        self.tracking_codes: list[str] = []

    def client(self, person: str | None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {self.issuer.person_token(person)}"} if person else {}
        return httpx.AsyncClient(base_url=self.gateway, headers=headers, timeout=30)

    async def timed(
        self, kind: str, call: Awaitable[httpx.Response], ok: set[int] = frozenset({200})
    ) -> httpx.Response:
        started = time.perf_counter()
        response = await call
        self.results.record(kind, response, time.perf_counter() - started, set(ok))
        return response

    def next_n(self) -> int:
        self.counter += 1
        return self.counter

    # -- what each person does -----------------------------------------------------------------

    async def commune(self, client: httpx.AsyncClient, village: str, commune: str) -> None:
        choice = random.random()
        if choice < 0.3:
            body = household_body(village, self.next_n())
            call = client.post("/registry/households", json=body)
            await self.timed("register household", call, {201})
        elif choice < 0.7:
            await self.timed("list households", client.get("/registry/households"))
        elif commune == "120801":
            await self.timed("grievance worklist", client.get("/grievance/worklists/assigned"))
        else:
            body = {
                "channel": "commune_office",
                "category": "other",
                "description": "Recorded during the soak.",
                "location_code": commune,
                "anonymous": True,
            }
            call = client.post("/grievance/grievances", json=body)
            await self.timed("record grievance", call, {201})

    async def district(self, client: httpx.AsyncClient) -> None:
        listing = await self.timed(
            "pending worklist",
            client.get("/registry/households", params={"status": "pending_verification"}),
        )
        items = listing.json().get("items", []) if listing.status_code == 200 else []
        if not items:
            return
        url = f"/registry/households/{random.choice(items)['id']}"
        current = await self.timed("read household", client.get(url))
        if current.status_code != 200:
            return
        # Another district officer may have verified it meanwhile: 412/409 are fair answers.
        await self.timed(
            "verify household",
            client.post(f"{url}/verify", headers={"If-Match": current.headers["etag"]}),
            {200, 409, 412},
        )

    async def national(self, client: httpx.AsyncClient) -> None:
        if random.random() < 0.7:
            await self.timed("list households", client.get("/registry/households"))
        else:
            await self.timed("household report", client.get("/registry/reports/households"))

    async def citizen_submits(self, client: httpx.AsyncClient) -> None:
        body = {
            "channel": "web",
            "category": "payment_problem",
            "anonymous": True,
            "location_code": "120801",
            "description": "No payment this month (soak).",
        }
        response = await self.timed(
            "public submission", client.post("/grievance/public/grievances", json=body), {201}
        )
        if response.status_code == 201:
            self.tracking_codes.append(response.json()["tracking_code"])

    async def citizen_tracks(self, client: httpx.AsyncClient) -> None:
        if self.tracking_codes:
            code = random.choice(self.tracking_codes)
            await self.timed("public tracking", client.get(f"/grievance/public/grievances/{code}"))


async def paced(rate: float, until: float, action: Callable[[], Awaitable[None]]) -> None:
    """Call `action` about `rate` times a second until `until` (monotonic)."""
    interval = 1 / rate
    while time.monotonic() < until:
        started = time.monotonic()
        await action()
        await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))


def memory_of(processes: dict[str, psutil.Process]) -> dict[str, int]:
    sizes = {}
    for name, process in processes.items():
        try:
            members = [process]
            if name == "postgres":
                members += process.children(recursive=True)
            sizes[name] = sum(p.memory_info().rss for p in members if p.is_running())
        except psutil.Error:
            sizes[name] = 0
    return sizes


async def events_reached(postgres: EmbeddedPostgres, patience: float = 60) -> tuple[int, int]:
    """Households in the registry and in the grievance service's read model, once equal (or
    after `patience` seconds)."""
    deadline = time.monotonic() + patience
    while True:
        registry = await asyncpg.connect(asyncpg_dsn(postgres.database_url("registry")))
        grievance = await asyncpg.connect(asyncpg_dsn(postgres.database_url("grievance")))
        try:
            held = await registry.fetchval("SELECT count(*) FROM household")
            known = await grievance.fetchval("SELECT count(*) FROM household_location")
        finally:
            await registry.close()
            await grievance.close()
        if held == known or time.monotonic() > deadline:
            return held, known
        await asyncio.sleep(1)


def start_platform(keep: bool) -> tuple[devstack_run.Stack, EmbeddedPostgres, TansuBroker]:
    if not keep:
        shutil.rmtree(SOAK, ignore_errors=True)
    postgres = EmbeddedPostgres(SOAK / "postgres", port=free_port(), log_file=SOAK / "pg.log")
    postgres.start()
    asyncio.run(create_databases(postgres.url, list(SERVICES)))
    broker = TansuBroker(port=free_port(), log_file=SOAK / "logs" / "broker.log")
    broker.start()
    for service in SERVICES:
        os.environ[f"{service.upper()}_DATABASE_URL"] = postgres.database_url(service)
        os.environ[f"SP_{service.upper()}_PORT"] = str(free_port())
    os.environ["KAFKA_BOOTSTRAP_SERVERS"] = broker.bootstrap_servers
    os.environ["SP_GATEWAY_PORT"] = str(free_port())
    devstack_run.LOCAL = SOAK  # the processes' logs go to .local/soak/logs
    stack = devstack_run.Stack()
    urls = stack.start_infrastructure()
    stack.migrate(urls)
    stack.start_processes()
    stack.wait_ready()
    return stack, postgres, broker


def report(results: Results, elapsed: float, before: dict, after: dict, events) -> None:
    total = sum(len(v) for v in results.latencies.values())
    errors = sum(results.errors.values())
    print(f"\n{total} requests in {elapsed:.0f} s: {total / elapsed:.1f} req/s, {errors} errors")
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}\n")
    print(f"{'request':<22}{'count':>8}{'p50 ms':>10}{'p99 ms':>10}")
    everything = []
    for kind, values in sorted(results.latencies.items()):
        everything += values
        print(f"{kind:<22}{len(values):>8}{_pct(values, 50):>10.1f}{_pct(values, 99):>10.1f}")
    p50, p99 = _pct(everything, 50), _pct(everything, 99)
    print(f"{'all':<22}{len(everything):>8}{p50:>10.1f}{p99:>10.1f}")
    if results.errors:
        print("\nerrors:")
        for key, count in sorted(results.errors.items()):
            print(f"  {key}: {count}")
        for sample in results.samples:
            print(f"  e.g. {sample}")
    print(f"\n{'process':<12}{'start MB':>10}{'end MB':>10}{'growth':>9}")
    for name in before:
        start, end = before[name] / 2**20, after[name] / 2**20
        growth = (end - start) / start * 100 if start else 0.0
        print(f"{name:<12}{start:>10.1f}{end:>10.1f}{growth:>8.1f}%")
    held, known = events
    verdict = "equal" if held == known else "NOT equal"
    print(f"\nhouseholds: {held} in the registry, {known} known to grievance ({verdict})")


def _pct(values: list[float], pct: int) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0] * 1000
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1] * 1000


async def drive(stack, seconds: float, scale: float, warmup: float, processes) -> tuple:
    gateway = next(p for p in stack.procs if p.name == "gateway").url
    issuer = DevIssuer(stack.env["GATEWAY_DEV_ISSUER_URL"], "sp-platform")
    results = Results()
    work = Workload(gateway, issuer, results)
    start = time.monotonic()
    until = start + warmup + seconds
    clients = {
        person: work.client(person)
        for person in ("cs.phnom-penh-thmei", "cs.tuek-thla", "dmk.sen-sok", "national.officer")
    }
    citizen = work.client(None)
    try:
        thmei, tuek_thla = clients["cs.phnom-penh-thmei"], clients["cs.tuek-thla"]
        tasks = [
            paced(8 * scale, until, lambda: work.commune(thmei, "12080102", "120801")),
            paced(8 * scale, until, lambda: work.commune(tuek_thla, "12080204", "120802")),
            paced(4 * scale, until, lambda: work.district(clients["dmk.sen-sok"])),
            paced(4 * scale, until, lambda: work.national(clients["national.officer"])),
            paced(0.8, until, lambda: work.citizen_submits(citizen)),
            paced(2, until, lambda: work.citizen_tracks(citizen)),
        ]
        running = asyncio.gather(*tasks)
        await asyncio.sleep(warmup)
        # Measured from here: what the warm-up did (first connections, caches) is not counted.
        results.latencies.clear()
        results.errors.clear()
        before = memory_of(processes)
        measured_from = time.monotonic()
        await running
        elapsed = time.monotonic() - measured_from
        after = memory_of(processes)
    finally:
        for client in (*clients.values(), citizen):
            await client.aclose()
    return results, elapsed, before, after


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.soak", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--seconds", type=float, default=60, help="measured time (default 60)")
    parser.add_argument("--warmup", type=float, default=10, help="unmeasured start (default 10)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies the staff rates")
    parser.add_argument("--keep", action="store_true", help="keep .local/soak's data")
    args = parser.parse_args()
    stack, postgres, broker = start_platform(args.keep)
    try:
        processes = {p.name: psutil.Process(p.process.pid) for p in stack.procs}
        processes["postgres"] = psutil.Process(postgres._process.pid)
        processes["broker"] = psutil.Process(broker._process.pid)
        results, elapsed, before, after = asyncio.run(
            drive(stack, args.seconds, args.scale, args.warmup, processes)
        )
        events = asyncio.run(events_reached(postgres))
        report(results, elapsed, before, after, events)
    finally:
        stack.stop()
        broker.stop()
        postgres.stop()


if __name__ == "__main__":
    main()
