"""Fuzzing the merged document against the real gateway with schemathesis (issue 13).

`run_fuzz` starts a gateway process in front of the given services (the development issuer
on, so demo tokens work), then runs `st run` once per caller, failing on any 5xx, response
that breaks its schema, status or header the document does not declare, error that is not a
problem document, and valid request refused or invalid one accepted. `make fuzz` runs it long
(`python -m tests.contract.fuzz`, against the `make run` stack); the test suite runs it short.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import yaml

from gateway.config import DEFAULT_POLICY

ROOT = Path(__file__).resolve().parents[2]
# Failures accepted for now, each a rule the schema cannot state yet (a period of at most ten
# years, "one of these parameters", a body naming a record that must exist ...): listed, so a
# new failure still fails the run. `SP_FUZZ_BASELINE_UPDATE=1` merges a run's failures in.
BASELINE = Path(__file__).parent / "fuzz-baseline.json"
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
        "positive_data_acceptance",
    ]
)


@dataclass
class FuzzResult:
    caller: str
    code: int
    output: str


def fuzz_policy(directory: Path) -> Path:
    """The real policy with rate limits raised: the fuzzer's requests are not a flood to
    throttle, and a 429 would hide what the service answers."""
    policy = yaml.safe_load(DEFAULT_POLICY.read_text())
    for rate in policy["rate_classes"].values():
        rate["per_second"] = 10_000
        rate["burst"] = 10_000
    path = directory / "policy.yml"
    path.write_text(yaml.safe_dump(policy))
    return path


SCHEMATHESIS = "schemathesis==4.32.5"


def schemathesis_command() -> list[str]:
    """`st` of the virtualenv; until the lock holds schemathesis, the pinned one run by uvx
    (with pydantic, which the hooks' gazetteer import needs)."""
    st = Path(sys.executable).parent / "st"
    if st.exists():
        return [str(st)]
    uvx = Path(sys.executable).parent / "uvx"
    pydantic = f"pydantic=={version('pydantic')}"
    return [str(uvx), "--quiet", "--from", SCHEMATHESIS, "--with", pydantic, "st"]


def st_run(
    base_url: str,
    token: str | None,
    *,
    max_examples: int,
    seed: int,
    max_time: int | None = None,
    phases: str = "examples,coverage,fuzzing",
    extra: list[str] | None = None,
) -> tuple[int, str]:
    command = [
        *schemathesis_command(),
        "run",
        f"{base_url}/openapi.json",
        "--url",
        base_url,
        "--checks",
        CHECKS,
        "--max-examples",
        str(max_examples),
        "--seed",
        str(seed),
        "--phases",
        phases,
        # One worker: two concurrent changes to one record (If-Match "*") race, and the
        # loser's 412 is the API working, not a finding.
        "--workers",
        "1",
        "--no-color",
        "--generation-database",
        "none",
        "--request-timeout",
        "30",
        "--suppress-health-check",
        "all",
        *(["--max-time", str(max_time)] if max_time else []),
        *(["-H", f"Authorization: Bearer {token}"] if token else []),
        "--baseline",
        str(BASELINE),
        *(["--baseline-update"] if os.environ.get("SP_FUZZ_BASELINE_UPDATE") else []),
        *(extra or []),
    ]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.contract.fuzz_hooks", "PYTHONPATH": str(ROOT)}
    # Run outside the work tree: schemathesis keeps its caches in the current directory.
    with tempfile.TemporaryDirectory(prefix="sp-fuzz-") as workdir:
        done = subprocess.run(
            command, cwd=workdir, env=env, capture_output=True, text=True, check=False, timeout=3600
        )
    return done.returncode, done.stdout + done.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--gateway", default=os.environ.get("SP_GATEWAY_URL", "http://127.0.0.1:8000")
    )
    parser.add_argument("--callers", default="national.officer,cs.phnom-penh-thmei,anonymous")
    parser.add_argument("--max-examples", type=int, default=50)
    parser.add_argument("--seed", type=int, default=20261206)
    args = parser.parse_args()
    from gateway.identity.dev_issuer import DevIssuer

    issuer = DevIssuer(f"{args.gateway}/dev/idp", "sp-platform")
    failed = False
    for caller in args.callers.split(","):
        token = None if caller == "anonymous" else issuer.person_token(caller)
        code, output = st_run(args.gateway, token, max_examples=args.max_examples, seed=args.seed)
        print(f"=== {caller}: exit {code}\n{output}")
        failed |= code != 0
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
