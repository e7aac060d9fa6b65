"""The import command line: the same validation and commit as the API, a progress bar, and
the report written beside the file."""

from __future__ import annotations

import asyncio
import csv
import shutil
import subprocess
import sys

from sqlalchemy import func, select

from services.registry.households.models import Household, Member
from tests.harness import ROOT
from tests.registry.factories import RegistryRows
from tests.registry.test_imports import SAMPLE_CSV


async def cli(*args: str) -> subprocess.CompletedProcess:
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "services.registry.imports", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_the_cli_validates_commits_and_writes_the_report(
    infrastructure, clean_databases, tmp_path
):
    database_url = infrastructure.database_url("registry")
    sample = tmp_path / "households.csv"
    shutil.copy(SAMPLE_CSV, sample)

    done = await cli(
        str(sample), "--as", "sokha@120801", "--commit", "--database-url", database_url
    )

    assert done.returncode == 0, done.stderr
    report = tmp_path / "households.errors.csv"
    assert f"report: {report}" in done.stdout
    assert "committed" in done.stderr
    with report.open(encoding="utf-8-sig") as stream:
        rows = list(csv.DictReader(stream))
    assert {"row": "7", "column": "birth_date", "code": "future_date"}.items() <= next(
        r for r in rows if r["row"] == "7"
    ).items()
    async with RegistryRows(database_url) as session:
        households = (await session.execute(select(func.count()).select_from(Household))).scalar()
        members = (await session.execute(select(func.count()).select_from(Member))).scalar()
        created_by = (await session.execute(select(Household.created_by))).scalars().first()
    assert (households, members, created_by) == (2, 4, "cli:sokha")

    # Validation alone commits nothing; the same file again would create nothing anyway.
    again = await cli(str(sample), "--as", "120801", "--database-url", database_url)
    assert again.returncode == 0, again.stderr
    assert "validated only" in again.stderr


async def test_the_cli_refuses_bad_arguments_and_unreadable_files(infrastructure, tmp_path):
    database_url = infrastructure.database_url("registry")
    bad_area = await cli(str(SAMPLE_CSV), "--as", "1", "--database-url", database_url)
    assert bad_area.returncode == 2
    assert "admin code" in bad_area.stderr

    missing = await cli(
        str(tmp_path / "nope.csv"), "--as", "120801", "--database-url", database_url
    )
    assert missing.returncode == 2

    wrong = tmp_path / "households.pdf"
    wrong.write_bytes(b"%PDF-1.7\x00binary")
    refused = await cli(str(wrong), "--as", "120801", "--database-url", database_url)
    assert refused.returncode == 1
    assert "neither CSV" in refused.stderr
