"""Migrate the services' databases, or wait until they are migrated (runs inside the image).

    python deploy/migrate.py [SERVICE ...]           upgrade each database to head
    python deploy/migrate.py --wait [SERVICE ...]    return once each database is at the head
                                                     revision this image ships

SERVICE is registry, grievance, isaf or budget; none means all four. The first form is the
compose `migrate` service and the Kubernetes migration Job; the second is the init container
of each Deployment, so a pod never serves against a schema older than its code.

Each database URL comes from `<SERVICE>_DATABASE_URL` (or `<SERVICE>_DATABASE_URL_FILE`, read
by the image's entrypoint) and is required: the services' development default
(127.0.0.1:55432) is never used here. The services' Alembic `env.py` builds the full service
settings, so `<SERVICE>_INTERNAL_TOKEN_PUBLIC_KEY` must be set as well outside development.
Both forms stop with a message naming the server when it runs a PostgreSQL older than 18.

It runs the same code as `alembic -c services/<service>/alembic.ini upgrade head`
(`shared.migrations.upgrade`), against the migrations installed in the image: the image has
no source tree to point `alembic -c` at.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import os
import sys
import time
from pathlib import Path

from shared.platform import SERVICES

log = logging.getLogger("sp.migrate")


def service_dir(service: str) -> Path:
    """Where the installed package keeps the service's alembic.ini and migrations/."""
    return Path(importlib.import_module(f"services.{service}").__file__).resolve().parent


def database_url(service: str) -> str:
    name = f"{service.upper()}_DATABASE_URL"
    url = os.environ.get(name, "")
    if not url:
        raise SystemExit(f"{name} (or {name}_FILE) is not set")
    return url


def head_revisions(service: str) -> set[str]:
    from alembic.script import ScriptDirectory

    from shared.migrations import alembic_config

    return set(ScriptDirectory.from_config(alembic_config(service_dir(service), "")).get_heads())


def known_revisions(service: str) -> set[str]:
    from alembic.script import ScriptDirectory

    from shared.migrations import alembic_config

    script = ScriptDirectory.from_config(alembic_config(service_dir(service), ""))
    return {rev.revision for rev in script.walk_revisions()}


async def current_revisions(url: str) -> set[str]:
    import asyncpg

    from shared.db.engine import asyncpg_dsn
    from shared.db.server_version import SERVER_VERSION_SQL, require_server_version

    conn = await asyncpg.connect(asyncpg_dsn(url), timeout=5)
    try:
        require_server_version(await conn.fetchval(SERVER_VERSION_SQL), url)
        if await conn.fetchval("SELECT to_regclass('alembic_version')") is None:
            return set()
        return {row[0] for row in await conn.fetch("SELECT version_num FROM alembic_version")}
    finally:
        await conn.close()


def upgrade_all(services: list[str]) -> None:
    from shared.migrations import upgrade

    for service in services:
        url = database_url(service)
        log.info("migrating the %s database to head %s", service, sorted(head_revisions(service)))
        upgrade(service_dir(service), url)
        log.info("the %s database is at head", service)


def wait_all(services: list[str], timeout: float, interval: float) -> None:
    from shared.db.server_version import UnsupportedServerVersion

    deadline = time.monotonic() + timeout
    pending = {s: (database_url(s), head_revisions(s), known_revisions(s)) for s in services}
    while pending:
        for service, (url, heads, known) in list(pending.items()):
            try:
                current = asyncio.run(current_revisions(url))
            except UnsupportedServerVersion as exc:
                raise SystemExit(str(exc)) from exc
            except Exception as exc:  # the database is not reachable yet: keep waiting
                log.info("%s: database not reachable yet (%s)", service, type(exc).__name__)
                continue
            if current == heads:
                log.info("%s: database is at head %s", service, sorted(heads))
                del pending[service]
            elif current and not current <= known:
                # A newer image already migrated further (rolling update or rollback of the
                # code): migrations are expand-then-contract, so this older code still fits.
                log.warning(
                    "%s: database is at %s, newer than this image's head %s; going on",
                    service,
                    sorted(current),
                    sorted(heads),
                )
                del pending[service]
            else:
                log.info(
                    "%s: database at %s, waiting for %s",
                    service,
                    sorted(current) or "no revision",
                    sorted(heads),
                )
        if pending and time.monotonic() > deadline:
            raise SystemExit(f"not migrated after {timeout:.0f}s: {', '.join(pending)}")
        if pending:
            time.sleep(interval)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("services", nargs="*", metavar="SERVICE", help=", ".join(SERVICES))
    parser.add_argument("--wait", action="store_true", help="wait for the migration job")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds (with --wait)")
    parser.add_argument("--interval", type=float, default=5.0, help="seconds (with --wait)")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.services) - set(SERVICES))
    if unknown:
        parser.error(f"unknown service {', '.join(unknown)}; choose from {', '.join(SERVICES)}")
    services = list(dict.fromkeys(args.services)) or list(SERVICES)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if args.wait:
        wait_all(services, args.timeout, args.interval)
    else:
        from shared.db.server_version import UnsupportedServerVersion

        try:
            upgrade_all(services)
        except UnsupportedServerVersion as exc:
            raise SystemExit(str(exc)) from exc
    return 0


if __name__ == "__main__":
    sys.exit(main())
