"""The client generators and validators the contract test runs, pinned.

Python tools run with `uvx` (uv is in the project's lock) at the versions below, each in its
own cached environment, so they never touch the project's virtualenv; the TypeScript tools
are pinned in `package.json`/`package-lock.json` beside this file and installed with `npm ci`
on first use (again whenever the lock changes).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
OPENAPI_PYTHON_CLIENT = "openapi-python-client==0.28.1"
OPENAPI_SPEC_VALIDATOR = "openapi-spec-validator==0.9.0"
NODE_MODULES = HERE / "node_modules"
_STAMP = NODE_MODULES / ".lock-sha256"


def _run(command: list[str], *, cwd: Path | None = None, timeout: int = 600) -> tuple[int, str]:
    done = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
    return done.returncode, done.stdout + done.stderr


def uvx(package: str, *args: str) -> tuple[int, str]:
    uvx_path = Path(sys.executable).parent / "uvx"
    return _run([str(uvx_path), "--quiet", "--from", package, *args])


def generate_python_client(document: Path, output: Path) -> tuple[int, str]:
    """openapi-python-client's exit code and everything it printed (warnings included)."""
    shutil.rmtree(output, ignore_errors=True)
    return uvx(
        OPENAPI_PYTHON_CLIENT,
        "openapi-python-client",
        "generate",
        "--path",
        str(document),
        "--output-path",
        str(output),
        "--meta",
        "none",
    )


def validate_specification(document: Path) -> tuple[int, str]:
    return uvx(OPENAPI_SPEC_VALIDATOR, "openapi-spec-validator", str(document))


def npm_tools() -> Path:
    """node_modules/.bin with the pinned TypeScript tools, installed by `npm ci` if needed."""
    lock = hashlib.sha256((HERE / "package-lock.json").read_bytes()).hexdigest()
    if not _STAMP.exists() or _STAMP.read_text() != lock:
        npm = shutil.which("npm")
        assert npm, "the contract test needs Node.js and npm (see README, Contract tests)"
        code, output = _run([npm, "ci", "--no-audit", "--no-fund"], cwd=HERE)
        assert code == 0, output
        _STAMP.write_text(lock)
    return NODE_MODULES / ".bin"


def generate_typescript_client(document: Path, output: Path) -> tuple[int, str]:
    """openapi-typescript's types for the document, then `tsc --strict` over a module using
    them: the exit code and the output of both."""
    bin_dir = npm_tools()
    output.mkdir(parents=True, exist_ok=True)
    code, generated = _run(
        [
            str(bin_dir / "openapi-typescript"),
            str(document),
            "-o",
            str(output / "api.d.ts"),
            # A property with a default may be absent from an answer (problem documents
            # leave out what they do not know): optional, as the schema says.
            "--default-non-nullable",
            "false",
        ]
    )
    if code != 0:
        return code, generated
    (output / "use.ts").write_text(
        'import type { paths, components } from "./api";\n'
        'type Problem = components["schemas"]["ProblemDocument"];\n'
        'type Households = paths["/registry/households"]["get"]["responses"]["200"];\n'
        "export const problem: Problem = { type: 'urn:kh-sp:problem:validation', "
        "title: 'Validation failed', status: 422 };\n"
        "export type Check = Households;\n"
    )
    code, compiled = _run(
        [
            str(bin_dir / "tsc"),
            "--strict",
            "--noEmit",
            "--target",
            "es2022",
            "--module",
            "es2022",
            "--moduleResolution",
            "bundler",
            str(output / "use.ts"),
        ]
    )
    return code, generated + compiled
