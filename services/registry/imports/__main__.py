"""Import a CSV or XLSX file of households from the command line, with a progress bar.

    python -m services.registry.imports FILE --as 120801 [--commit] [--database-url URL]

`--as` names whose authority the import runs under: an admin code (`120801` a commune,
`1208` a district, `12` a province, `national`), optionally after a user name
(`sokha@120801`); the villages in the file must lie in that area. The same service code as
the API validates and commits; the report of every issue is written as CSV beside the file
(or to `--report`). Exit status: 0 when the file was read (even with rows in error), 1 when
it could not be, 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import getpass
import sys
import uuid
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from services.registry import roles
from services.registry.imports import repository, service
from services.registry.imports.models import HouseholdImport
from services.registry.imports.schemas import REPORT_COLUMNS, ImportPublic
from shared.db.engine import Database
from shared.migrations import default_database_url
from shared.principal import Principal
from shared.problems import Problem
from shared.tiers import tier_for_code

console = Console(stderr=True)


def principal_for(who: str) -> Principal:
    """`120801`, `national` or `name@120801` as a registry officer of that area."""
    name, _, code = who.rpartition("@")
    code = "" if code.lower() == "national" else code
    tier = tier_for_code(code)
    if tier is None or not (code == "" or code.isdigit()):
        raise ValueError(f"--as {who!r}: give an admin code (2, 4 or 6 digits) or 'national'")
    user = name or getpass.getuser()
    return Principal(
        sub=f"cli:{user}",
        name=f"{user} (command line)",
        tier=tier,
        admin_code=code,
        roles=frozenset({roles.OFFICER}),
    )


async def write_report(database: Database, import_id: uuid.UUID, path: Path) -> int:
    written = 0
    out = await asyncio.to_thread(path.open, "w", encoding="utf-8-sig", newline="")
    try:
        writer = csv.writer(out)
        writer.writerow(REPORT_COLUMNS)
        async for rows in repository.stream_issues(database.engine, import_id):
            writer.writerows(rows)
            written += len(rows)
    finally:
        out.close()
    return written


def show(household_import: HouseholdImport) -> None:
    public = ImportPublic.of(household_import)
    table = Table(title=f"import {public.id}", show_header=False)
    table.add_row("status", public.status + (f" ({public.failure})" if public.failure else ""))
    for field, value in public.progress.model_dump().items():
        if field != "percent":
            table.add_row(field.replace("_", " "), f"{value:,}")
    table.add_row("errors", f"{public.error_count:,}")
    table.add_row("warnings", f"{public.warning_count:,}")
    console.print(table)


async def load(database: Database, import_id: uuid.UUID) -> HouseholdImport:
    async with database.sessionmaker() as session:
        found = await session.get(HouseholdImport, import_id)
    assert found is not None
    return found


async def run(args: argparse.Namespace, principal: Principal) -> int:
    database = Database(args.database_url)
    try:
        path = Path(args.file)
        file = await asyncio.to_thread(path.open, "rb")
        try:
            async with database.transaction() as session:
                started = await service.start_import(
                    session, principal=principal, file_name=path.name, file=file
                )
        except Problem as problem:
            console.print(f"[red]{path}: {problem.detail}[/red]")
            return 1
        finally:
            file.close()
        import_id = started.id
        console.print(f"import {import_id}: {path} ({started.file_size:,} bytes) stored")

        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as bar:
            task = bar.add_task("validating", total=None)

            def progress(stage: str, done: int, total: int | None) -> None:
                bar.update(task, description=stage, completed=done, total=total)

            await service.validate_import(database, import_id, progress=progress)
            household_import = await load(database, import_id)
            if household_import.status == "failed" or not args.commit:
                bar.stop()
            else:
                async with database.transaction() as session:
                    await service.request_commit(session, principal=principal, import_id=import_id)
                await service.commit_import(
                    database, import_id, batch_households=args.batch, progress=progress
                )
                household_import = await load(database, import_id)

        show(household_import)
        if household_import.status == "failed":
            return 1
        report = Path(args.report) if args.report else path.with_name(path.stem + ".errors.csv")
        issues = await write_report(database, import_id, report)
        print(f"report: {report} ({issues:,} issues)")
        if not args.commit:
            console.print(
                f"validated only; commit with POST /registry/imports/{import_id}/commit "
                "or run again with --commit"
            )
        return 0
    finally:
        await database.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m services.registry.imports",
        description="Validate (and with --commit, import) a CSV or XLSX file of households.",
    )
    parser.add_argument("file", help="the CSV (UTF-8) or XLSX file")
    parser.add_argument(
        "--as",
        dest="who",
        required=True,
        help="the area the import runs for: 120801, 1208, 12, national, or name@120801",
    )
    parser.add_argument("--commit", action="store_true", help="commit the valid households")
    parser.add_argument(
        "--database-url",
        default=default_database_url("registry"),
        help="the registry database (default: REGISTRY_DATABASE_URL or the local stack's)",
    )
    parser.add_argument("--report", help="where to write the CSV report of issues")
    parser.add_argument(
        "--batch", type=int, default=service.COMMIT_BATCH_HOUSEHOLDS, help="households per batch"
    )
    args = parser.parse_args(argv)
    try:
        principal = principal_for(args.who)
    except ValueError as exc:
        parser.error(str(exc))
    if not Path(args.file).is_file():
        parser.error(f"{args.file}: no such file")
    return asyncio.run(run(args, principal))


if __name__ == "__main__":
    sys.exit(main())
