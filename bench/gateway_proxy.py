"""What the gateway costs: an authenticated GET straight to a service, through the gateway
(authentication and policy on), and through nginx as a plain reverse proxy, in one run.

    python -m bench.gateway_proxy [--duration 10] [--connections 32] [--compare-stacks]
                                  [--unloaded SECONDS] [--profile DIR] [--before CHECKOUT]

Needs `wrk` and `nginx` on PATH (Debian: `apt-get install nginx wrk`). Every server is a child
process on 127.0.0.1 with one worker: the service is bench/_upstream_app.py (the platform's
service factory, internal-token check included, one trivial route), the gateway is
`uvicorn gateway.main:app` with SERVER_OPTIONS (as deployed), the development issuer and the
real policy table (gateway/policy.yml) with the bench route appended and rate classes that never
limit, and nginx runs `worker_processes 1` (one worker, like the single uvicorn worker of the
gateway) with a keep-alive upstream pool. Each target is checked to answer 200, warmed up for
2 s, then measured with `wrk -t1 -c<connections> -d<duration> --latency` and a Lua script that
asks for a different thing per request (10,000 in turn), as real traffic asks for different
households, so no cache keyed on the URL flatters the figures.

`--compare-stacks` also measures the gateway on uvicorn's pure-Python stack (asyncio loop, h11
parser) and, when it is installed, on granian (a Rust HTTP server); uvicorn's defaults already
pick uvloop and httptools when they are installed.
With 32 connections every target is saturated, so its p50 is mostly queueing (about
connections / req/s); `--unloaded 5` also measures each target over ONE connection, which shows
the latency a hop itself adds. The CPU lines give each server's CPU per request, the steadiest
figure from run to run on a small machine where the gateway and the service share two cores.
`--before CHECKOUT` also starts the gateway of another checkout of the project (for example
`git worktree add /tmp/before <commit>`) the same way, against the same service, and prints
both gateways' CPU per request and their ratio: the baseline of a change, measured in the
same run on the same cores rather than recalled from another day.
`--profile DIR` runs one more gateway load under `py-spy record` (py-spy must be installed and
the benchmark run as root or with ptrace rights) and prints where the gateway's CPU goes.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import jwt
import yaml

from bench._profile import RATE, ProfileError, recording, summarise
from devstack.postgres import free_port
from devstack.process import die_with_parent
from gateway.addresses import SERVER_OPTIONS
from gateway.config import DEFAULT_POLICY
from gateway.identity.claims import principal_from_claims
from gateway.identity.dev_issuer import DevIssuer
from shared.principal import INTERNAL_TOKEN_HEADER, InternalTokenSigner
from shared.settings import DEV_INTERNAL_TOKEN_PRIVATE_KEY

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
PERSON = "cs.phnom-penh-thmei"
AUDIENCE = "sp-platform"
SERVICE = "registry"
THING = "/things/4711"
WARMUP_SECONDS = 2
# Issue 18: through the gateway at least 0.75 of direct, and the gateway's CPU per request at
# most half of what it was (272 us on the machine the issue was measured on: <= 140 us).
TARGET_RATIO = 0.75
TARGET_CPU_US = 140

# The bench route, appended to the gateway's real policy table (gateway/policy.yml) so the
# policy matcher works through every rule of the service as a real request's may, with every
# rate class made one that never limits the benchmark.
BENCH_ROUTE = {
    "service": "registry",
    "path": "/things/{thing_id}",
    "methods": ["GET"],
    "tiers": ["national", "cp", "dmk", "cs"],
    "roles": ["viewer", "registry.officer"],
}
# Each connection asks for a different thing in turn (wrk's Lua hook), as real traffic asks
# for different households: caches keyed on the URL must not flatter the figures.
DISTINCT_THINGS = 10_000
WRK_SCRIPT = """\
-- Written by bench/gateway_proxy.py: a different thing per request.
local n = 0
request = function()
  n = n + 1
  return wrk.format(nil, "{prefix}/things/" .. (4711 + n % {count}))
end
"""


def bench_policy() -> str:
    document = yaml.safe_load(DEFAULT_POLICY.read_text())
    document["rate_classes"] = {
        name: {"per_second": 1_000_000, "burst": 1_000_000} for name in document["rate_classes"]
    }
    document["routes"].append(BENCH_ROUTE)
    return "# Written by bench/gateway_proxy.py.\n" + yaml.safe_dump(document, sort_keys=False)


NGINX_CONF = """\
# Written by bench/gateway_proxy.py: a plain reverse proxy in front of the service.
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    upstream service {{
        server {host}:{service_port};
        keepalive 64;
    }}
    server {{
        listen {host}:{port} backlog=4096;
        location /{name}/ {{
            proxy_pass http://service/;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
    }}
}}
"""


class BenchError(RuntimeError):
    pass


# Straight to 127.0.0.1, whatever http_proxy the environment names.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass
class Result:
    label: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: str = ""
    cpu: dict[str, float] = field(default_factory=dict)  # process -> CPU % during the run
    kernel: dict[str, float] = field(default_factory=dict)  # process -> its share in the kernel


@dataclass
class Target:
    label: str
    url: str
    headers: dict[str, str]
    pids: dict[str, int]  # the server processes whose CPU use is reported
    script: Path | None = None  # wrk's Lua script asking for a different thing per request


# ---------------------------------------------------------------------------------------------
# Child processes


class Children:
    """Every child process of the run; all are stopped on exit, whatever happens."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.procs: list[tuple[str, subprocess.Popen]] = []

    def start(
        self, name: str, argv: list[str], env: dict[str, str] | None = None, cwd: Path = ROOT
    ):
        with (self.tmp / f"{name}.log").open("wb") as log:
            proc = subprocess.Popen(
                argv,
                cwd=cwd,
                env={**os.environ, **(env or {})},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent,
            )
        self.procs.append((name, proc))
        return proc

    def log_tail(self, name: str, lines: int = 30) -> str:
        path = self.tmp / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, proc: subprocess.Popen) -> None:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def stop_all(self) -> None:
        for _, proc in reversed(self.procs):
            with contextlib.suppress(Exception):
                self.stop(proc)
        self.procs.clear()


def uvicorn_argv(app: str, port: int, *, stack: str = "fast") -> list[str]:
    argv = [
        sys.executable, "-m", "uvicorn", app,
        "--host", HOST, "--port", str(port),
        "--workers", "1", "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    if stack == "fast":
        if importlib.util.find_spec("uvloop"):
            argv += ["--loop", "uvloop"]
        if importlib.util.find_spec("httptools"):
            argv += ["--http", "httptools"]  # SERVER_OPTIONS may name a protocol class after
    else:  # uvicorn's pure-Python stack, for comparison
        argv += ["--loop", "asyncio", "--http", "h11"]
    return argv


def granian_argv(app: str, port: int) -> list[str]:
    """Granian (a Rust HTTP stack) serving the same ASGI app, for comparison only."""
    return [
        sys.executable, "-m", "granian", "--interface", "asgi",
        "--host", HOST, "--port", str(port), "--workers", "1", "--no-ws",
        "--loop", "uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
        "--log-level", "warning", "--no-access-log", app,
    ]  # fmt: skip


def wait_until_up(children: Children, name: str, proc: subprocess.Popen, url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"{name} exited with {proc.returncode}:\n{children.log_tail(name)}")
        try:
            with _OPENER.open(url, timeout=1):
                return
        except urllib.error.HTTPError:
            return  # it answers; whether with 200 is checked by check_ok()
        except OSError:
            time.sleep(0.1)
    raise BenchError(f"{name} did not come up at {url}:\n{children.log_tail(name)}")


def check_ok(target: Target) -> None:
    """The benchmarked request must succeed, or the numbers measure an error page."""
    request = urllib.request.Request(target.url, headers=target.headers)  # noqa: S310
    try:
        with _OPENER.open(request, timeout=5) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, body = exc.code, exc.read()
    except OSError as exc:
        raise BenchError(f"{target.label}: GET {target.url} failed: {exc}") from exc
    if status != 200:
        raise BenchError(
            f"{target.label}: GET {target.url} answered {status}, not 200:\n"
            f"{body.decode(errors='replace')[:2000]}"
        )
    print(f"    {target.label}: 200 {body.decode(errors='replace')[:120]}")


# ---------------------------------------------------------------------------------------------
# wrk


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def to_ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value.strip())
    if not match:
        raise BenchError(f"cannot read the latency {value!r}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


def parse_wrk(output: str) -> tuple[float, float, float, str]:
    """Requests/sec, p50 and p99 in ms, and any errors wrk reported."""
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    if not (rps and p50 and p99):
        raise BenchError(f"cannot read wrk's output:\n{output}")
    errors = [
        line.strip()
        for line in output.splitlines()
        if line.strip().startswith(("Non-2xx", "Socket errors"))
    ]
    return float(rps.group(1)), to_ms(p50.group(1)), to_ms(p99.group(1)), "; ".join(errors)


def wrk(target: Target, *, duration: int, connections: int) -> str:
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency"]
    for name, value in target.headers.items():
        argv += ["-H", f"{name}: {value}"]
    if target.script is not None:
        argv += ["-s", str(target.script)]
    done = subprocess.run(
        [*argv, target.url], capture_output=True, text=True, timeout=duration + 60, check=False
    )
    if done.returncode != 0:
        raise BenchError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


def cpu_times(pid: int) -> tuple[float, float]:
    """User and system CPU time of a process so far, in seconds (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    return sum(cpu_times(pid))


def measure(target: Target, *, duration: int, connections: int) -> Result:
    print(f"==> warming up {target.label} ({WARMUP_SECONDS} s)", flush=True)
    wrk(target, duration=WARMUP_SECONDS, connections=connections)
    print(f"==> measuring {target.label} ({duration} s, {connections} connections)", flush=True)
    before = {name: cpu_times(pid) for name, pid in target.pids.items()}
    started = time.monotonic()
    output = wrk(target, duration=duration, connections=connections)
    elapsed = time.monotonic() - started
    after = {name: cpu_times(pid) for name, pid in target.pids.items()}
    cpu, kernel = {}, {}
    for name in target.pids:
        user = after[name][0] - before[name][0]
        system = after[name][1] - before[name][1]
        cpu[name] = 100 * (user + system) / elapsed
        kernel[name] = system / (user + system) if user + system else 0.0
    rps, p50, p99, errors = parse_wrk(output)
    if errors:
        print(f"    !! wrk reported errors: {errors}", flush=True)
    return Result(target.label, rps, p50, p99, errors, cpu, kernel)


# ---------------------------------------------------------------------------------------------
# The profile (py-spy)


def profile_gateway(
    target: Target, out: Path, *, duration: int, connections: int, rate: int = RATE
) -> None:
    raw = out / "gateway.collapsed.txt"
    print(f"==> profiling {target.label} with py-spy ({duration} s, {rate} Hz) -> {out}")
    wrk(target, duration=WARMUP_SECONDS, connections=connections)
    try:
        with recording(target.pids["gateway"], raw, seconds=duration, rate=rate):
            rps, p50, _, _ = parse_wrk(wrk(target, duration=duration, connections=connections))
    except ProfileError as exc:
        raise BenchError(str(exc)) from exc
    # py-spy stops the process for each sample (consistent stacks), hence lower figures.
    print(f"    under the profiler: {rps:,.0f} req/s, p50 {p50:.2f} ms")
    print(summarise(raw, process="gateway"))


# ---------------------------------------------------------------------------------------------
# The run


@contextlib.contextmanager
def servers(
    tmp: Path, *, compare_stacks: bool, before: Path | None = None
) -> Iterator[dict[str, Target]]:
    children = Children(tmp)
    try:
        yield start_servers(children, tmp, compare_stacks=compare_stacks, before=before)
    finally:
        print("==> stopping servers", flush=True)
        children.stop_all()


def start_servers(
    children: Children, tmp: Path, *, compare_stacks: bool, before: Path | None = None
) -> dict[str, Target]:
    quiet = {"SP_ENVIRONMENT": "development", "PYTHONDONTWRITEBYTECODE": "1"}

    service_port = free_port()
    print(f"==> starting the service (bench._upstream_app) on :{service_port}", flush=True)
    service = children.start(
        "service",
        uvicorn_argv("bench._upstream_app:app", service_port),
        {**quiet, "BENCH_UPSTREAM_LOG_LEVEL": "WARNING", "BENCH_UPSTREAM_LOG_JSON": "true"},
    )
    service_url = f"http://{HOST}:{service_port}"
    wait_until_up(children, "service", service, f"{service_url}/health")

    issuer_url = f"http://{HOST}:8000/dev/idp"  # the gateway's default; `iss` must match it
    bearer = DevIssuer(issuer_url, AUDIENCE).person_token(PERSON, ttl=3600)
    # The same principal the gateway derives from the bearer token, signed the same way.
    principal = principal_from_claims(jwt.decode(bearer, options={"verify_signature": False}))
    internal = InternalTokenSigner(DEV_INTERNAL_TOKEN_PRIVATE_KEY, ttl_seconds=3600).sign(
        principal, audience=SERVICE
    )
    policy = tmp / "policy.yml"
    policy.write_text(bench_policy())
    gateway_env = {
        **quiet,
        "GATEWAY_REGISTRY_URL": service_url,
        "GATEWAY_DEV_ISSUER_ENABLED": "true",
        "GATEWAY_DEV_ISSUER_URL": issuer_url,
        "GATEWAY_POLICY_FILE": str(policy),
        "GATEWAY_LOG_JSON": "true",
        "GATEWAY_LOG_LEVEL": "WARNING",
    }
    targets: dict[str, Target] = {
        "direct": Target(
            "direct (service)",
            f"{service_url}{THING}",
            {INTERNAL_TOKEN_HEADER: internal},
            {"service": service.pid},
        )
    }

    stacks = [("gateway", "gateway (auth+policy)", "fast")]
    if before is not None:
        stacks.append(("gateway-before", BEFORE_LABEL, "before"))
    if compare_stacks:
        stacks.append(("gateway-h11", "gateway asyncio+h11", "python"))
        if importlib.util.find_spec("granian"):
            stacks.append(("gateway-granian", "gateway on granian", "granian"))
        else:
            print("    (granian is not installed: its comparison is skipped)")
    for key, label, stack in stacks:
        port = free_port()
        print(f"==> starting {label} on :{port}", flush=True)
        cwd = ROOT
        if stack == "granian":
            argv = granian_argv("gateway.main:app", port)
        elif stack == "before":
            # The other checkout's gateway module, by running from its folder (`-m` puts the
            # working directory first on the path), with this interpreter and its packages,
            # with the option every checkout ran its gateway with (uvicorn's httptools).
            argv = [*uvicorn_argv("gateway.main:app", port), "--no-proxy-headers"]
            cwd = before
        else:
            # The gateway runs as it is deployed (Dockerfile, devstack): with SERVER_OPTIONS
            # (on the pure-Python stack, without their choice of HTTP protocol).
            options = list(SERVER_OPTIONS)
            if stack == "python" and "--http" in options:
                del options[options.index("--http") : options.index("--http") + 2]
            argv = [*uvicorn_argv("gateway.main:app", port, stack=stack), *options]
        proc = children.start(key, argv, gateway_env, cwd=cwd)
        wait_until_up(children, key, proc, f"http://{HOST}:{port}/ready")
        # Granian serves from a worker process of its own: its CPU is the worker's.
        pid = (_child_process(proc.pid) or proc.pid) if stack == "granian" else proc.pid
        targets[key] = Target(
            label,
            f"http://{HOST}:{port}/{SERVICE}{THING}",
            {"Authorization": f"Bearer {bearer}"},
            {"gateway": pid, "service": service.pid},
        )

    nginx_port = free_port()
    print(f"==> starting nginx (worker_processes 1) on :{nginx_port}", flush=True)
    conf = tmp / "nginx.conf"
    conf.write_text(
        NGINX_CONF.format(
            tmp=tmp, host=HOST, port=nginx_port, service_port=service_port, name=SERVICE
        )
    )
    nginx = children.start("nginx", ["nginx", "-p", str(tmp), "-c", str(conf), "-g", "daemon off;"])
    wait_until_up(children, "nginx", nginx, f"http://{HOST}:{nginx_port}/{SERVICE}/health")
    nginx_pids = {"nginx": nginx.pid, "service": service.pid}
    worker = _child_process(nginx.pid)
    if worker:
        nginx_pids["nginx"] = worker
    targets["nginx"] = Target(
        "nginx (plain proxy)",
        f"http://{HOST}:{nginx_port}/{SERVICE}{THING}",
        {INTERNAL_TOKEN_HEADER: internal},
        nginx_pids,
    )

    print("==> checking that every target answers 200", flush=True)
    for key, target in targets.items():
        check_ok(target)
        prefix = urllib.parse.urlsplit(target.url).path.removesuffix(THING)
        target.script = tmp / f"wrk-{key}.lua"
        target.script.write_text(WRK_SCRIPT.format(prefix=prefix, count=DISTINCT_THINGS))
    return targets


def _child_process(master: int) -> int | None:
    with contextlib.suppress(OSError, ValueError):
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        return int(children[0]) if children else None
    return None


def print_table(results: list[Result]) -> None:
    direct = results[0]
    print()
    print(f"{'target':<24}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'vs direct':>11}")
    for r in results:
        ratio = "" if r is direct else f"{r.rps / direct.rps:.2f}"
        print(f"{r.label:<24}{r.rps:>9,.0f}{r.p50_ms:>9.2f}{r.p99_ms:>9.2f}{ratio:>11}")
    gateway = next(r for r in results if r.label.startswith("gateway (auth"))
    added = gateway.p50_ms - direct.p50_ms
    cpu_us = gateway.cpu["gateway"] * 10_000 / gateway.rps
    print(f"added at p50 by the gateway: {added:.2f} ms")
    print(
        f"target: >= {TARGET_RATIO:.2f} of direct, gateway CPU <= {TARGET_CPU_US} us/request"
        f"  ->  {gateway.rps / direct.rps:.2f} of direct "
        f"({'met' if gateway.rps / direct.rps >= TARGET_RATIO else 'NOT met'}), "
        f"{cpu_us:.0f} us ({'met' if cpu_us <= TARGET_CPU_US else 'NOT met'})"
    )
    nginx = next((r for r in results if r.label.startswith("nginx")), None)
    if nginx is not None and "nginx" in nginx.cpu:
        nginx_us = nginx.cpu["nginx"] * 10_000 / nginx.rps
        print(
            f"gateway CPU per request / nginx's in the same run: {cpu_us / nginx_us:.1f} "
            f"({cpu_us:.0f} / {nginx_us:.0f} us; this machine's speed cancels out)"
        )
    before = next((r for r in results if r.label == BEFORE_LABEL), None)
    if before is not None:
        before_us = before.cpu["gateway"] * 10_000 / before.rps
        print(
            f"gateway CPU per request, this checkout / the one before: {cpu_us:.0f} / "
            f"{before_us:.0f} us = {cpu_us / before_us:.2f} (target <= 0.50)"
        )
    print()
    print(
        "CPU during each measurement (100% = one core; the machine has "
        f"{os.cpu_count()} cores, wrk uses part of one):"
    )
    for r in results:
        used = ", ".join(
            f"{name} {pct:.0f}% ({pct * 10_000 / r.rps:.0f} us/request, "
            f"{100 * r.kernel.get(name, 0):.0f}% in the kernel)"
            for name, pct in r.cpu.items()
        )
        print(f"  {r.label:<24}{used}")
    for r in results:
        if r.errors:
            print(f"  !! {r.label}: {r.errors}")


BEFORE_LABEL = "gateway before (--before)"


def print_unloaded(results: list[Result]) -> None:
    direct = results[0]
    print()
    print("one connection (no queueing):")
    print(f"{'target':<24}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'added p50':>11}")
    for r in results:
        added = "" if r is direct else f"{r.p50_ms - direct.p50_ms:+.2f}"
        print(f"{r.label:<24}{r.rps:>9,.0f}{r.p50_ms:>9.2f}{r.p99_ms:>9.2f}{added:>11}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument(
        "--compare-stacks",
        action="store_true",
        help="also measure the gateway on asyncio+h11 (uvicorn's pure-Python stack) and, when "
        "it is installed, on granian (a Rust HTTP stack)",
    )
    parser.add_argument(
        "--unloaded",
        type=int,
        default=0,
        metavar="SECONDS",
        help="also measure each target with ONE connection for this long: the latency a hop "
        "adds when nothing queues (at saturation p50 is mostly queueing: connections / req/s)",
    )
    parser.add_argument(
        "--profile", type=Path, metavar="DIR", help="profile the gateway with py-spy into DIR"
    )
    parser.add_argument(
        "--before",
        type=Path,
        metavar="CHECKOUT",
        help="also measure the gateway of another checkout of the project (e.g. a git "
        "worktree of an earlier commit) in the same run: the change's baseline",
    )
    args = parser.parse_args()
    if args.before is not None and not (args.before / "gateway" / "main.py").exists():
        sys.exit(f"--before {args.before}: not a checkout of this project (no gateway/main.py)")
    for tool in ("wrk", "nginx"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is not installed (Debian: apt-get install -y nginx wrk)")

    print(
        f"gateway proxy benchmark: {os.cpu_count()} cores, wrk -t1 -c{args.connections} "
        f"-d{args.duration}s, one worker per server, nginx worker_processes 1"
    )
    with tempfile.TemporaryDirectory(prefix="bench-gateway-") as tmp_name:
        tmp = Path(tmp_name)
        try:
            with servers(tmp, compare_stacks=args.compare_stacks, before=args.before) as targets:
                results = [
                    measure(t, duration=args.duration, connections=args.connections)
                    for t in targets.values()
                ]
                # Table order: direct, gateway, nginx, then the comparison stack if any.
                order = [
                    "direct (service)",
                    "gateway (auth+policy)",
                    BEFORE_LABEL,
                    "nginx (plain proxy)",
                ]
                results.sort(key=lambda r: order.index(r.label) if r.label in order else 99)
                print_table(results)
                if args.unloaded:
                    print()
                    unloaded = [
                        measure(t, duration=args.unloaded, connections=1) for t in targets.values()
                    ]
                    unloaded.sort(key=lambda r: order.index(r.label) if r.label in order else 99)
                    print_unloaded(unloaded)
                if args.profile:
                    print()
                    profile_gateway(
                        targets["gateway"],
                        args.profile,
                        duration=args.duration,
                        connections=args.connections,
                    )
        except BenchError as exc:
            sys.exit(f"benchmark failed: {exc}")


if __name__ == "__main__":
    main()
