"""PostgreSQL 18 or newer: the check every service, the migrations and deploy/migrate.py run."""

from __future__ import annotations

import importlib.util

import pytest

import shared.db.engine
import shared.db.server_version
import shared.migrations
from shared.db.engine import Database
from shared.db.server_version import (
    UnsupportedServerVersion,
    require_server_version,
    server_name,
    version_text,
)
from shared.service_app import check_database_server
from tests.harness import ROOT, running

URL = "postgresql+asyncpg://registry:s3cret@db.example.gov.kh:5432/registry"
PG16 = "SELECT 160004"  # what current_setting('server_version_num')::int answers on 16.4


@pytest.mark.parametrize(
    ("version_num", "text"),
    [(180000, "18.0"), (180003, "18.3"), (190001, "19.1"), (160004, "16.4"), (90624, "9.6.24")],
)
def test_version_numbers_read_as_people_write_them(version_num, text):
    assert version_text(version_num) == text


@pytest.mark.parametrize("version_num", [180000, 180001, 181000, 190000, 200002])
def test_postgresql_18_and_newer_pass(version_num):
    require_server_version(version_num, URL)


@pytest.mark.parametrize(
    ("version_num", "runs"),
    [(170006, "17.6"), (160004, "16.4"), (150013, "15.13"), (90624, "9.6.24"), (179999, "17.9999")],
)
def test_older_servers_are_refused_naming_the_server_not_its_password(version_num, runs):
    with pytest.raises(UnsupportedServerVersion) as refused:
        require_server_version(version_num, URL)
    assert str(refused.value) == (
        f"PostgreSQL 18 or newer is required; db.example.gov.kh:5432/registry runs {runs}"
    )
    assert "s3cret" not in str(refused.value)


def test_server_name_without_port_or_database():
    assert server_name("postgresql+asyncpg://u:p@db") == "db"
    assert server_name("not a url") == "the database server"


async def test_the_embedded_test_server_passes(infrastructure):
    database = Database(infrastructure.database_url("platform"))
    try:
        assert await database.check_server_version() >= 180000
        await database.ping()
    finally:
        await database.dispose()


async def test_a_service_refuses_to_start_on_an_older_server(infrastructure, monkeypatch):
    from services.budget.config import Settings
    from services.budget.main import create_app

    monkeypatch.setattr(shared.db.engine, "SERVER_VERSION_SQL", PG16)
    app = create_app(
        Settings(
            database_url=infrastructure.database_url("budget"),
            kafka_bootstrap_servers=infrastructure.bootstrap_servers,
            consumers_enabled=False,
            relay_enabled=False,
            log_json=False,
        )
    )
    with pytest.raises(UnsupportedServerVersion, match=r"18 or newer is required; .* runs 16\.4"):
        async with running(app):
            pass


async def test_a_server_unreachable_at_startup_is_checked_by_readiness(infrastructure, monkeypatch):
    from devstack.postgres import free_port

    unreachable = Database(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/platform")
    await check_database_server(unreachable, "budget")  # logs, does not raise
    assert unreachable.server_version_num is None
    await unreachable.dispose()

    monkeypatch.setattr(shared.db.engine, "SERVER_VERSION_SQL", PG16)
    old = Database(infrastructure.database_url("platform"))
    try:
        with pytest.raises(UnsupportedServerVersion):
            await old.ping()  # /ready's database check: stays unready on 16
    finally:
        await old.dispose()


def test_migrations_refuse_an_older_server(infrastructure, monkeypatch):
    monkeypatch.setattr(shared.migrations, "SERVER_VERSION_SQL", PG16)
    with pytest.raises(UnsupportedServerVersion, match=r"runs 16\.4"):
        shared.migrations.upgrade(
            ROOT / "services" / "budget", infrastructure.database_url("budget")
        )


def load_migrate_script():
    spec = importlib.util.spec_from_file_location("deploy_migrate", ROOT / "deploy" / "migrate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("argv", [["budget"], ["--wait", "--timeout=5", "budget"]])
def test_the_migration_job_and_init_containers_stop_on_an_older_server(
    infrastructure, monkeypatch, argv
):
    migrate = load_migrate_script()
    monkeypatch.setenv("BUDGET_DATABASE_URL", infrastructure.database_url("budget"))
    monkeypatch.setattr(shared.db.server_version, "SERVER_VERSION_SQL", PG16)
    monkeypatch.setattr(shared.migrations, "SERVER_VERSION_SQL", PG16)
    with pytest.raises(SystemExit, match=r"PostgreSQL 18 or newer is required; .* runs 16\.4"):
        migrate.main(argv)


def test_the_migration_script_waits_quietly_on_postgresql_18(infrastructure, monkeypatch):
    migrate = load_migrate_script()
    monkeypatch.setenv("BUDGET_DATABASE_URL", infrastructure.database_url("budget"))
    assert migrate.main(["--wait", "--timeout=5", "budget"]) == 0
