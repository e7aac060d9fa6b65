"""Where a server process's CPU goes: py-spy samples of it under a benchmark's load, summed per
function (self and inclusive) and per area (library or part of ours). Used by
`bench.gateway_proxy --profile DIR` and `bench.registry_reads --profile DIR`.

py-spy is not in the project's dependencies: `.venv/bin/pip install py-spy`, and run the
benchmark as root or with ptrace rights. Each sample stops the process for a moment, so the
throughput under the profiler is lower than the benchmark's own figures; what counts here is
the shares.
"""

from __future__ import annotations

import collections
import contextlib
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from devstack.process import die_with_parent

ROOT = Path(__file__).resolve().parent.parent
RATE = 250  # samples a second


class ProfileError(RuntimeError):
    pass


def py_spy() -> str | None:
    local = Path(sys.executable).parent / "py-spy"
    return str(local) if local.exists() else shutil.which("py-spy")


@contextlib.contextmanager
def recording(pid: int, raw: Path, *, seconds: float, rate: int = RATE) -> Iterator[None]:
    """py-spy samples process `pid` for `seconds` while the block runs its load; the raw
    (collapsed) stacks go to `raw`."""
    tool = py_spy()
    if tool is None:
        raise ProfileError("py-spy is not installed (`.venv/bin/pip install py-spy`)")
    raw.parent.mkdir(parents=True, exist_ok=True)
    recorder = subprocess.Popen(
        [tool, "record", "--pid", str(pid), "--rate", str(rate),
         "--duration", str(max(1, round(seconds))), "--format", "raw", "--output", str(raw)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=die_with_parent,
    )  # fmt: skip
    time.sleep(0.5)
    try:
        yield
    finally:
        _, err = recorder.communicate(timeout=seconds + 60)
    if recorder.returncode != 0:
        raise ProfileError(f"py-spy failed: {err.decode(errors='replace')}")


def _frame_name(frame: str) -> str:
    """`handle (gateway/proxy.py:123)` -> `handle (gateway/proxy.py)`: per function, not line."""
    match = re.fullmatch(r"(.*) \((.*?)(?::\d+)?\)", frame.strip())
    if not match:
        return frame.strip()
    function, path = match.groups()
    for marker in ("site-packages/", str(ROOT) + "/", "lib/python3."):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{function} ({path})"


_AREAS = (
    ("jwt/", "PyJWT (encode/decode)"),
    ("cryptography/", "cryptography"),
    ("aiohttp/", "aiohttp client"),
    ("httpx/", "httpx client"),
    ("asyncpg/", "asyncpg"),
    ("sqlalchemy/", "SQLAlchemy"),
    ("prometheus_client/", "prometheus_client"),
    ("logging/", "logging"),
    ("uuid", "uuid"),
    ("pydantic", "pydantic"),
    ("shared/observability", "shared/observability.py"),
    ("shared/context", "shared/context.py"),
    ("shared/db", "shared/db"),
    ("shared/http/server", "shared/http/server.py (the answer's socket write)"),
    ("shared/", "shared (other)"),
    ("gateway/identity", "gateway/identity"),
    ("gateway/proxy", "gateway/proxy.py"),
    ("gateway/http1", "gateway/http1.py (the client to the services, its socket writes)"),
    ("gateway/", "gateway (other)"),
    ("services/", "the service's own code"),
    ("fastapi/", "fastapi"),
    ("starlette/", "starlette"),
    ("uvicorn/", "uvicorn (server, http protocol)"),
    ("asyncio/", "asyncio (the event loop: uvloop's own work, socket reads, polling)"),
)


def _area(frames: list[str]) -> str:
    for frame in reversed(frames):
        for marker, area in _AREAS:
            if marker in frame:
                return area
    return "other: " + frames[-1]


def summarise(raw: Path, *, process: str, top: int = 25) -> str:
    """Self and inclusive time per function, and per area, from py-spy's collapsed stacks."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    areas: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_frame_name(f) for f in stack.split(";") if f.strip()]
        # py-spy's first frame is the thread name; drop non-code frames.
        frames = [f for f in frames if "(" in f] or frames
        if not frames:
            continue
        total += count
        own[frames[-1]] += count
        for name in set(frames):
            inclusive[name] += count
        areas[_area(frames)] += count
    if not total:
        return "    (no samples)"
    lines = [f"    {total} samples of a busy {process} process (idle time excluded)", ""]
    lines.append("    by area (innermost frame of ours or of a library, attributed once):")
    for area, count in areas.most_common(top):
        lines.append(f"      {100 * count / total:5.1f}%  {area}")
    lines += ["", "    self time (the function itself was running):"]
    for name, count in own.most_common(top):
        lines.append(f"      {100 * count / total:5.1f}%  {name}")
    lines += ["", "    inclusive time (the function or what it called):"]
    for name, count in inclusive.most_common(top + 15):
        lines.append(f"      {100 * count / total:5.1f}%  {name}")
    return "\n".join(lines)
