"""`make run`: the whole platform on one machine, no Docker.

Starts (or reuses, when URLs are given) PostgreSQL and the broker, creates and migrates one
database per service, starts the four services and the gateway as separate processes, waits
until every one is ready, prints where to reach them, and on Ctrl-C stops everything it
started, in reverse order.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from devstack.broker import TansuBroker
from devstack.postgres import EmbeddedPostgres, create_databases
from devstack.process import die_with_parent
from gateway.addresses import SERVER_OPTIONS
from shared.http.server import SERVER_OPTIONS as PLATFORM_SERVER_OPTIONS
from shared.platform import GATEWAY_PORT, SERVICES, default_port

# Where portal teams run their development servers (React, Vite, Angular, Vue CLI).
LOCAL_PORTAL_ORIGINS = [
    f"http://{host}:{port}"
    for port in (3000, 5173, 4200, 8080)
    for host in ("localhost", "127.0.0.1")
]

ROOT = Path(__file__).resolve().parent.parent
LOCAL = ROOT / ".local"


# A process that dies is started again after 1 s, 2 s, 4 s ... (at most 30 s); one that then
# stays up for a minute starts from 1 s again next time.
RESTART_BASE_SECONDS = 1.0
RESTART_MAX_SECONDS = 30.0
RESTART_RESET_SECONDS = 60.0


@dataclass
class Proc:
    name: str
    port: int
    app: str
    options: tuple[str, ...] = ()
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    restarts: int = 0  # in a row: reset once the process has stayed up a while
    restart_at: float | None = None  # when a process that died is started again

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def step(message: str) -> None:
    print(f"==> {message}", flush=True)


def _env_port(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


class Stack:
    def __init__(self) -> None:
        self.postgres: EmbeddedPostgres | None = None
        self.broker: TansuBroker | None = None
        self.procs: list[Proc] = []
        self.env = dict(os.environ)
        self.demo_lines: list[str] = []

    # -- infrastructure -----------------------------------------------------------------------

    def start_infrastructure(self) -> dict[str, str]:
        urls = {s: os.environ.get(f"{s.upper()}_DATABASE_URL", "") for s in SERVICES}
        if not all(urls.values()):
            port = _env_port("SP_POSTGRES_PORT", 55432)
            step(f"starting embedded PostgreSQL on 127.0.0.1:{port} (data in .local/postgres)")
            self.postgres = EmbeddedPostgres(
                LOCAL / "postgres", port=port, log_file=LOCAL / "logs" / "postgres.log"
            )
            self.postgres.start()
            asyncio.run(create_databases(self.postgres.url, [s for s, u in urls.items() if not u]))
            for service, url in urls.items():
                urls[service] = url or self.postgres.database_url(service)
        else:
            step("using the PostgreSQL servers given by *_DATABASE_URL")
        for service, url in urls.items():
            self.env[f"{service.upper()}_DATABASE_URL"] = url

        bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
        if bootstrap:
            step(f"using the Kafka brokers at {bootstrap}")
        else:
            port = _env_port("SP_BROKER_PORT", 19092)
            step(f"starting the Tansu Kafka-protocol broker on 127.0.0.1:{port} (in memory)")
            self.broker = TansuBroker(port=port, log_file=LOCAL / "logs" / "broker.log")
            self.broker.start()
            bootstrap = self.broker.bootstrap_servers
        self.env["KAFKA_BOOTSTRAP_SERVERS"] = bootstrap
        return urls

    def migrate(self, urls: dict[str, str]) -> None:
        from shared.migrations import upgrade

        for service, url in urls.items():
            step(f"migrating the {service} database")
            upgrade(ROOT / "services" / service, url)

    def seed_demo_data(self, urls: dict[str, str]) -> list[str]:
        """Each service's `demo.seed(database_url)` (where it has one) loads the demo area's
        data through the service's own functions, so history and events are as real. Seeds
        skip what exists, so restarting keeps one copy."""
        import importlib

        lines: list[str] = []
        for service, url in urls.items():
            try:
                demo = importlib.import_module(f"services.{service}.demo")
            except ModuleNotFoundError:
                continue
            step(f"loading {service} demo data")
            lines += asyncio.run(demo.seed(url))
        return lines

    # -- processes ----------------------------------------------------------------------------

    def plan_processes(self) -> int:
        """The processes to start, each with its port and uvicorn options; the gateway's port."""
        gateway_port = _env_port("SP_GATEWAY_PORT", GATEWAY_PORT)
        for service in SERVICES:
            port = _env_port(f"SP_{service.upper()}_PORT", default_port(service, gateway_port))
            self.procs.append(
                Proc(service, port, f"services.{service}.main:app", PLATFORM_SERVER_OPTIONS)
            )
            self.env.setdefault(f"GATEWAY_{service.upper()}_URL", f"http://127.0.0.1:{port}")
        self.procs.append(Proc("gateway", gateway_port, "gateway.main:app", SERVER_OPTIONS))
        return gateway_port

    def start_processes(self) -> None:
        gateway_port = self.plan_processes()
        self.env.setdefault("SP_ENVIRONMENT", "development")
        # The development identity provider, inside the gateway, with the demo users.
        self.env.setdefault("GATEWAY_DEV_ISSUER_ENABLED", "true")
        self.env.setdefault("GATEWAY_DEV_ISSUER_URL", f"http://127.0.0.1:{gateway_port}/dev/idp")
        # A portal developed on this machine (another origin) may call the local stack: the
        # usual dev-server ports. Production sets none (GATEWAY_CORS_ORIGINS, off by default).
        self.env.setdefault("GATEWAY_CORS_ORIGINS", json.dumps(LOCAL_PORTAL_ORIGINS))
        # The demo DCI clients may be called back on this machine (any port), nowhere else.
        local = ["http://127.0.0.1:*/", "http://localhost:*/"]
        self.env.setdefault(
            "REGISTRY_DCI_CALLBACK_URLS",
            json.dumps({"moh-health-equity": local, "pp-social-services": local}),
        )
        # The demo DCI clients send unsigned messages (REGISTRY_DCI_CLIENT_KEYS registers
        # real clients' signing keys; README, DCI section).
        self.env.setdefault(
            "REGISTRY_DCI_CLIENT_KEYS",
            json.dumps({"moh-health-equity": "unsigned", "pp-social-services": "unsigned"}),
        )
        (LOCAL / "logs").mkdir(parents=True, exist_ok=True)
        for proc in self.procs:
            step(f"starting {proc.name} on {proc.url} (log: .local/logs/{proc.name}.log)")
            self.launch(proc)

    def launch(self, proc: Proc) -> None:
        log = open(LOCAL / "logs" / f"{proc.name}.log", "ab")  # noqa: SIM115
        proc.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                proc.app,
                *proc.options,
                "--host",
                "127.0.0.1",
                "--port",
                str(proc.port),
                "--no-access-log",
                "--timeout-graceful-shutdown",
                "5",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        log.close()  # the child has its own copy of the descriptor
        proc.started_at = time.monotonic()
        proc.restart_at = None

    def supervise(self, now: float | None = None) -> None:
        """Start again, with backoff, a process that died: 1 s, 2 s, 4 s ... at most
        RESTART_MAX_SECONDS; a process that stayed up RESTART_RESET_SECONDS starts again from
        1 s. The rest of the stack keeps running meanwhile."""
        now = time.monotonic() if now is None else now
        for proc in self.procs:
            if proc.process is None or proc.process.poll() is None:
                if proc.process is not None and now - proc.started_at >= RESTART_RESET_SECONDS:
                    proc.restarts = 0
                continue
            if proc.restart_at is None:
                delay = min(RESTART_BASE_SECONDS * 2**proc.restarts, RESTART_MAX_SECONDS)
                proc.restart_at = now + delay
                print(
                    f"{proc.name} stopped unexpectedly (code {proc.process.returncode}); "
                    f"restarting it in {delay:.0f} s (see .local/logs/{proc.name}.log)",
                    flush=True,
                )
            elif now >= proc.restart_at:
                proc.restarts += 1
                print(f"{proc.name}: restart {proc.restarts}", flush=True)
                self.launch(proc)

    def wait_ready(self, timeout: float = 90.0) -> None:
        pending = {p.name: p for p in self.procs}
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2.0) as client:
            while pending:
                for name, proc in list(pending.items()):
                    if proc.process and proc.process.poll() is not None:
                        raise RuntimeError(
                            f"{name} exited with code {proc.process.returncode}; "
                            f"see .local/logs/{name}.log"
                        )
                    try:
                        if client.get(f"{proc.url}/ready").status_code == 200:
                            step(f"{name} is ready")
                            del pending[name]
                    except httpx.HTTPError:
                        pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"not ready after {timeout:.0f}s: {', '.join(pending)}")
                time.sleep(0.3)

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.process and proc.process.poll() is None:
                proc.process.send_signal(signal.SIGTERM)
        for proc in reversed(self.procs):
            if proc.process:
                try:
                    proc.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.process.kill()
                    proc.process.wait()
        if self.broker:
            self.broker.stop()
        if self.postgres:
            self.postgres.stop()

    def summary(self) -> str:
        gateway = next(p for p in self.procs if p.name == "gateway")
        lines = [
            "",
            "The social protection platform is running.",
            "",
            f"  gateway (the public API)  {gateway.url}",
            f"    health of every service {gateway.url}/health",
        ]
        for proc in self.procs:
            if proc.name != "gateway":
                lines.append(f"  {proc.name:<25} {proc.url}  (internal: requests need the gateway)")
        lines += ["", f"  broker                    {self.env['KAFKA_BOOTSTRAP_SERVERS']}"]
        if self.postgres:
            lines.append(f"  postgres                  {self.postgres.url}/<service>")
        lines += [
            "  logs                      .local/logs/",
            "",
            *(
                ["Demo data:", *(f"  {line}" for line in self.demo_lines), ""]
                if self.demo_lines
                else []
            ),
            *self.token_lines(gateway.url),
            "",
            "Press Ctrl-C to stop everything.",
        ]
        return "\n".join(lines)

    def token_lines(self, gateway_url: str) -> list[str]:
        """Ready-to-paste tokens of the development issuer's demo users (12 hours)."""
        if self.env.get("GATEWAY_DEV_ISSUER_ENABLED", "").lower() != "true":
            return [f"  try: curl -s {gateway_url}/health"]
        from gateway.identity.dev_issuer import DevIssuer, export_lines

        issuer = DevIssuer(self.env["GATEWAY_DEV_ISSUER_URL"], "sp-platform")
        lines = [
            "Demo tokens of the development issuer (valid 12 hours; "
            "`make tokens` prints fresh ones):"
        ]
        lines += [f"  {line}" for line in export_lines(issuer)]
        lines += [
            "",
            "Try:",
            f"  curl -s {gateway_url}/health",
            f"  curl -s {gateway_url}/openapi.json",
            f"  curl -s {gateway_url}/asyncapi.json",
            "  # the households of Sangkat Phnom Penh Thmei, as its commune officer sees them:",
            f'  curl -s -H "Authorization: Bearer $TOKEN_CS_PHNOM_PENH_THMEI" '
            f"{gateway_url}/registry/households",
            "  # the district's verification worklist and a household report:",
            f'  curl -s -H "Authorization: Bearer $TOKEN_DMK_SEN_SOK" '
            f'"{gateway_url}/registry/households?status=pending_verification"',
            f'  curl -s -H "Authorization: Bearer $TOKEN_DMK_SEN_SOK" '
            f"{gateway_url}/registry/reports/households",
            "  # a citizen's grievance, no login (track it with the code in the answer):",
            f"  curl -s -X POST {gateway_url}/grievance/public/grievances "
            '-H \'Content-Type: application/json\' -d \'{"channel": "web", '
            '"category": "payment_problem", "anonymous": true, '
            '"location_code": "120801", "description": "No payment in October."}\'',
            "  # the commune's grievance worklist:",
            f'  curl -s -H "Authorization: Bearer $TOKEN_CS_PHNOM_PENH_THMEI" '
            f"{gateway_url}/grievance/worklists/assigned",
        ]
        return lines


def main() -> int:
    stack = Stack()

    def terminate(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    # Set explicitly: a shell that starts us in the background makes SIGINT ignored by default.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, terminate)
    try:
        urls = stack.start_infrastructure()
        stack.migrate(urls)
        stack.start_processes()
        stack.wait_ready()
        stack.demo_lines = stack.seed_demo_data(urls)
        print(stack.summary(), flush=True)
        while True:
            stack.supervise()
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("\nstopping...", flush=True)
        return 0
    except Exception as exc:
        print(f"the stack could not start: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        # A second Ctrl-C must not cut the orderly shutdown short (children would be killed
        # by PDEATHSIG instead of stopping cleanly).
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)
        stack.stop()
        print("stopped.", flush=True)
