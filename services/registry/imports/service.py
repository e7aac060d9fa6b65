"""Bulk import of households with members: upload, validation, commit, resumption.

1. `start_import` stores the uploaded file (in 1 MB chunks, in the database, so any process
   can resume it) after checking it is a CSV or XLSX with the required columns.
2. `validate_import` streams the file through the per-row checks (parsing.py) in a worker
   thread while the previous batch is COPYed into the import's staging table, then runs the
   checks across rows in SQL (repository.StagingTables) and counts what can be committed.
3. `commit_import` creates the valid households in batches, each batch one transaction that
   also advances the import's checkpoint: a household with any error is skipped whole, a
   crash loses at most the batches in flight (two run at a time, on two connections), and
   households are keyed by `source_ref` (the file's household id + village, see
   repository) so the same file twice creates nothing and a redone batch creates nothing.
4. `ImportWorker` runs 2 and 3 in the service process and, at startup, resumes the imports a
   stopped process left unfinished; a PostgreSQL advisory lock keeps one worker per import.

Events: as for a household registered through the API, built from the catalog's models
(`announce_households`) and written per batch with one multi-row insert (`emit_many`): per
household HouseholdRegistered (origin "import") carrying its members (as the API's does, so a
subscriber's member read model has every imported member) and PovertyStatusChanged when it
was imported with an assessed IDPoor status; one ImportCompleted per import. Likely
duplicates of the new households go to the duplicates review queue
(duplicates.service.flag_duplicates, per batch, with DuplicateFlagged events).
History: one `record_change` entry per household ("registered", origin "import").
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import BinaryIO

import asyncpg
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import roles
from services.registry.duplicates import service as duplicates_service
from services.registry.households import rules
from services.registry.households.codes import format_household_code
from services.registry.imports import repository
from services.registry.imports.models import FileFormat, HouseholdImport, ImportStatus
from services.registry.imports.parsing import (
    RowBatches,
    UnreadableFile,
    detect_format,
    generation_issues,
    read_header,
)
from services.registry.imports.repository import StagingTables
from shared import clock
from shared.context import request_id_var
from shared.db.engine import Database, asyncpg_dsn
from shared.events.catalog.registry import (
    HouseholdRegistered,
    ImportCompleted,
    PovertyStatusChanged,
)
from shared.http.pagination import PageParams
from shared.outbox import emit
from shared.principal import Principal
from shared.problems import IMPORT_EXPIRED, IMPORT_NOT_VALIDATED, Problem, field_error
from shared.runtime import collector_paused

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 500 * 1024 * 1024
CHUNK_BYTES = 1024 * 1024
PARSE_BATCH_ROWS = 20_000
COMMIT_BATCH_HOUSEHOLDS = 10_000
# Batches committed at the same time, each on its own connection (see _commit).
COMMIT_CONNECTIONS = 2


Progress = Callable[[str, int, int | None], None]


# --- requests ---------------------------------------------------------------------------


async def start_import(
    session: AsyncSession,
    *,
    principal: Principal,
    file_name: str,
    file: BinaryIO,
    idempotency_key: str | None = None,
) -> HouseholdImport:
    """Check and store an uploaded file; validation starts in the background (the caller
    schedules it after the transaction commits). 415 for a file that is not CSV or XLSX,
    422 for an empty file or missing columns, 413 past MAX_UPLOAD_BYTES."""
    roles.IMPORTER.check(principal)
    file.seek(0)
    head = await asyncio.to_thread(file.read, 8192)
    if not head:
        raise Problem.invalid("file", "the file is empty")
    try:
        file_format = detect_format(file_name, head)
    except UnreadableFile as exc:
        raise Problem(415, f"file: {exc}", errors=[field_error(["file"], str(exc))]) from None
    try:
        header = await asyncio.to_thread(read_header, file, file_format)
    except UnreadableFile as exc:
        raise Problem.invalid("file", str(exc)) from None
    if header.missing:
        raise Problem(
            422,
            "file: missing columns " + ", ".join(header.missing),
            errors=[field_error(["file", c], "required column is missing") for c in header.missing],
        )

    household_import = HouseholdImport(
        file_name=(file_name or "upload")[-255:],
        file_format=file_format,
        file_size=0,
        file_sha256="",
        admin_code=principal.admin_code,
        status=ImportStatus.UPLOADED,
        uploaded_by=principal.sub,
        uploaded_by_name=principal.name,
        uploaded_by_tier=principal.tier.value if principal.tier else None,
        request_id=request_id_var.get(),
        idempotency_key=idempotency_key,
    )
    await repository.add_import(session, household_import)
    digest = hashlib.sha256()
    size = 0
    seq = 0
    file.seek(0)
    while chunk := await asyncio.to_thread(file.read, CHUNK_BYTES):
        size += len(chunk)
        if size > MAX_UPLOAD_BYTES:
            raise Problem(
                413,
                f"file: larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB; split it",
                errors=[field_error(["file"], "the file is too large")],
            )
        digest.update(chunk)
        await repository.add_file_chunk(session, household_import.id, seq, chunk)
        seq += 1
    household_import.file_size = size
    household_import.file_sha256 = digest.hexdigest()
    await session.flush()
    return household_import


async def get_import(
    session: AsyncSession, *, principal: Principal, import_id: uuid.UUID, for_update=False
) -> HouseholdImport:
    roles.IMPORT_READER.check(principal)
    found = await repository.get_visible(session, principal, import_id, for_update=for_update)
    if found is None:
        raise Problem.not_found(f"Import {import_id}")
    return found


async def list_imports(
    session: AsyncSession, *, principal: Principal, page: PageParams, status: str | None
) -> tuple[list[HouseholdImport], str | None]:
    roles.IMPORT_READER.check(principal)
    return await repository.list_visible(session, principal, page=page, status=status)


async def list_issues(
    session: AsyncSession,
    *,
    principal: Principal,
    import_id: uuid.UUID,
    page: PageParams,
    severity: str | None,
):
    await get_import(session, principal=principal, import_id=import_id)
    return await repository.list_issues(session, import_id, page=page, severity=severity)


async def request_commit(
    session: AsyncSession, *, principal: Principal, import_id: uuid.UUID
) -> HouseholdImport:
    """validated -> committing (the worker does the rest). Asking again while committing or
    after it committed changes nothing; before validation finished it is 409."""
    household_import = await get_import(
        session, principal=principal, import_id=import_id, for_update=True
    )
    roles.IMPORT_COMMITTER.check(principal)
    status = household_import.status
    if status in (ImportStatus.COMMITTING, ImportStatus.COMMITTED):
        return household_import
    if status == ImportStatus.EXPIRED:
        raise Problem.conflict(
            "This import expired uncommitted and its file is no longer kept; upload the file "
            "again (households it would have created are created once only).",
            slug=IMPORT_EXPIRED,
        )
    if status != ImportStatus.VALIDATED:
        raise Problem.conflict(
            f"Only a validated import can be committed; this one is {status}.",
            slug=IMPORT_NOT_VALIDATED,
        )
    household_import.status = ImportStatus.COMMITTING
    household_import.committed_by = principal.sub
    household_import.committed_by_name = principal.name
    household_import.committed_by_tier = principal.tier.value if principal.tier else None
    household_import.committed_by_admin_code = principal.admin_code
    household_import.updated_at = clock.now()
    await session.flush()
    return household_import


# --- background work --------------------------------------------------------------------


@contextlib.asynccontextmanager
async def _locked_connection(
    database: Database, import_id: uuid.UUID
) -> AsyncIterator[asyncpg.Connection | None]:
    """A dedicated connection holding the import's lock, or None if another process has it."""
    connection = await asyncpg.connect(
        asyncpg_dsn(database.url), server_settings={"application_name": "registry-import"}
    )
    try:
        if not await repository.try_lock(connection, import_id):
            yield None
        else:
            yield connection
    finally:
        await connection.close()


async def _spool_file(connection: asyncpg.Connection, import_id: uuid.UUID, path: Path) -> None:
    out = await asyncio.to_thread(path.open, "wb")
    try:
        async for chunk in repository.file_chunks(connection, import_id):
            await asyncio.to_thread(out.write, chunk)
    finally:
        out.close()


async def _validate(
    connection: asyncpg.Connection, record: asyncpg.Record, *, progress: Progress | None
) -> None:
    import_id = record["id"]
    await repository.update_import(
        connection,
        import_id,
        status=ImportStatus.VALIDATING.value,
        failure=None,
        rows_read=0,
        rows_with_errors=0,
        error_count=0,
        warning_count=0,
        households_read=0,
        households_valid=0,
        households_invalid=0,
        households_existing=0,
        commit_checkpoint=0,
    )
    await repository.clear_issues(connection, import_id)
    staging = StagingTables(connection, import_id)
    await staging.create()
    area = record["admin_code"]
    with tempfile.TemporaryDirectory(prefix="registry-import-") as scratch:
        path = Path(scratch) / f"upload.{record['file_format']}"
        await _spool_file(connection, import_id, path)
        try:
            batches = await asyncio.to_thread(
                RowBatches,
                path,
                FileFormat(record["file_format"]),
                area=area,
                today=clock.today(),
                size=PARSE_BATCH_ROWS,
            )
        except UnreadableFile as exc:
            await _fail(connection, import_id, str(exc))
            return
        try:
            await repository.add_issues(connection, import_id, batches.file_issues())
            counts = {"rows": 0, "errors": 0, "warnings": 0, "bad_rows": 0}

            async def store(records: list[tuple], issues: list[tuple]) -> None:
                await staging.copy_rows(records)
                await repository.add_issues(connection, import_id, issues)
                counts["rows"] += len(records)
                counts["bad_rows"] += sum(1 for r in records if r[-1])
                counts["errors"] += len(issues)
                await repository.update_import(
                    connection,
                    import_id,
                    rows_read=counts["rows"],
                    rows_with_errors=counts["bad_rows"],
                    error_count=counts["errors"],
                )
                if progress:
                    progress("validating", counts["rows"], None)

            # Parse the next batch in a thread while PostgreSQL takes the previous one.
            pending: asyncio.Task | None = None
            try:
                while True:
                    batch = await asyncio.to_thread(batches.next)
                    if pending is not None:
                        await pending
                        pending = None
                    if batch is None:
                        break
                    pending = asyncio.create_task(store(*batch))
            finally:
                if pending is not None:
                    pending.cancel()
                    with contextlib.suppress(BaseException):
                        await pending
        except UnreadableFile as exc:
            await _fail(connection, import_id, str(exc))
            return
        finally:
            batches.close()

    if progress:
        progress("checking", counts["rows"], counts["rows"])
    await staging.check_across_rows(
        area=area,
        generations=generation_issues,
        generation_relationships=[str(r) for r in rules.AGE_GAP_RELATIONSHIPS],
    )
    issues = await repository.issue_counts(connection, import_id)
    households = await staging.household_counts()
    await repository.update_import(
        connection,
        import_id,
        status=ImportStatus.VALIDATED.value,
        rows_read=counts["rows"],
        rows_with_errors=issues["rows_with_errors"],
        error_count=issues["errors"],
        warning_count=issues["warnings"],
        households_read=households["households"],
        households_valid=households["committable"],
        households_invalid=households["invalid"],
        households_existing=households["existing"],
        validated_at=clock.now(),
    )


async def _fail(connection: asyncpg.Connection, import_id: uuid.UUID, reason: str) -> None:
    await StagingTables(connection, import_id).drop()
    await repository.update_import(
        connection, import_id, status=ImportStatus.FAILED.value, failure=reason[:1000]
    )


async def validate_import(
    database: Database, import_id: uuid.UUID, *, progress: Progress | None = None
) -> bool:
    """Validate an uploaded (or interrupted) import; False if another process holds it."""
    async with _locked_connection(database, import_id) as connection:
        if connection is None:
            return False
        record = await repository.load_import(connection, import_id)
        if record is None or record["status"] not in (
            ImportStatus.UPLOADED,
            ImportStatus.VALIDATING,
        ):
            return True
        await _validate(connection, record, progress=progress)
        return True


# Session settings for the bulk statements. synchronous_commit stays on: a batch is one
# transaction of seconds, so waiting for its WAL flush costs a few ms per 10,000 households,
# while turning it off would let the outbox relay publish a batch's events and a server
# crash then lose that batch (its checkpoint with it, which alone would be harmless): the
# batch would be committed again from re-staged rows with other household ids and codes,
# and subscribers would hold events of households that do not exist.
_BULK_SETTINGS = (
    # The batch statement is prepared once and run per batch with other values: a generic
    # plan (PostgreSQL's choice from the sixth execution) cannot see that the ordinal range
    # is one batch and may join the codes to a scan of every staged household per code.
    "SET plan_cache_mode = force_custom_plan",
    "SET work_mem = '256MB'",
    "SET maintenance_work_mem = '256MB'",
    # New trigram entries collect in the GIN indexes' pending lists and are merged in bulk.
    "SET gin_pending_list_limit = '64MB'",
)


async def _commit(
    database: Database,
    connection: asyncpg.Connection,
    record: asyncpg.Record,
    *,
    batch_households: int,
    max_batches: int | None,
    progress: Progress | None,
    flag_duplicates: bool,
) -> None:
    import_id = record["id"]
    staging = StagingTables(connection, import_id)
    if not await staging.exist():
        # Staging tables are UNLOGGED: a database crash empties them. Stage the file again;
        # what was already committed is now "already imported" and is skipped.
        await _validate(connection, record, progress=progress)
        await repository.update_import(
            connection, import_id, status=ImportStatus.COMMITTING.value, commit_checkpoint=0
        )
        record = await repository.load_import(connection, import_id)
    for statement in _BULK_SETTINGS:
        await connection.execute(statement)
    actor = {
        "sub": record["committed_by"] or record["uploaded_by"],
        "name": record["committed_by_name"] or record["uploaded_by_name"],
        "tier": record["committed_by_tier"] or record["uploaded_by_tier"],
        "admin_code": record["committed_by_admin_code"] or record["admin_code"],
        "request_id": record["request_id"],
    }
    committer = Principal(
        sub=actor["sub"],
        name=actor["name"],
        tier=actor["tier"],
        admin_code=actor["admin_code"],
        roles=frozenset(roles.IMPORTER.roles),
    )
    total = record["households_valid"]
    start = record["commit_checkpoint"]
    # The batches still to do, as (after, count); at most max_batches of them.
    pending = [
        (after, min(batch_households, total - after))
        for after in range(start, total, batch_households)
    ]
    if max_batches is not None:
        pending = pending[:max_batches]
    finished: set[int] = set()  # batches whose transaction has committed
    committed = start

    def checkpoint(index: int) -> int:
        """The end of the batches done without a gap, counting batch `index` as done: asked
        inside its transaction just before it commits. A batch that commits ahead of an
        earlier one leaves the checkpoint behind it; a resumed commit redoes it, creating
        nothing (source_ref) - and the earlier batch's transaction moves the checkpoint past
        both when it commits."""
        end = start
        for number, (after, count) in enumerate(pending):
            if number != index and number not in finished:
                break
            end = after + count
        return end

    queue = list(enumerate(pending))
    queue.reverse()

    async def work(conn: asyncpg.Connection) -> None:
        try:
            await batches(conn)
        except BaseException:
            queue.clear()  # the other connection stops after its current batch
            raise

    async def batches(conn: asyncpg.Connection) -> None:
        nonlocal committed
        staging_tables = StagingTables(conn, import_id)
        while queue:
            index, (after, count) = queue.pop()
            numbers = await repository.next_household_numbers(conn, count)
            # The batch's rows, records and event models hold no cycles and go when it ends:
            # the cyclic collector waits (shared/runtime.py).
            with collector_paused():
                created = await staging_tables.commit_batch(
                    after=after,
                    codes=[format_household_code(n) for n in numbers],
                    actor=actor,
                    announce=announce_households,
                    checkpoint=lambda index=index: checkpoint(index),
                )
            finished.add(index)
            if created and flag_duplicates:
                # The review queue: likely duplicates of the new households (set-based). In
                # its own transaction right after the batch's: a crash between the two leaves
                # that batch unflagged (its registry duplicates are still in the report).
                async with database.transaction() as session:
                    await duplicates_service.flag_duplicates(
                        session, household_ids=created, principal=committer
                    )
            committed += count
            if progress:
                progress("committing", committed, total)

    if progress:
        progress("committing", start, total)
    # Two transactions at a time, on this connection and a second one: a batch's statement
    # runs on one core of the server, and the member table's index maintenance is CPU-bound.
    workers = [work(connection)]
    helper = None
    if COMMIT_CONNECTIONS > 1 and len(pending) > 1:
        helper = await asyncpg.connect(
            asyncpg_dsn(database.url), server_settings={"application_name": "registry-import"}
        )
        for statement in _BULK_SETTINGS:
            await helper.execute(statement)
        workers.append(work(helper))
    try:
        results = await asyncio.gather(*workers, return_exceptions=True)
    finally:
        if helper is not None:
            await helper.close()
    for result in results:
        if isinstance(result, BaseException):
            raise result
    # A batch that committed ahead of an earlier one left the checkpoint behind it: move it
    # over every batch done now.
    await repository.advance_checkpoint(connection, import_id, checkpoint(-1))
    if max_batches is not None and start + sum(c for _, c in pending) < total:
        return
    await _finish(database, connection, import_id)


def announce_households(rows: list[asyncpg.Record]) -> list[tuple]:
    """The events of a committed batch, from the catalog's models, as for a household
    registered through the API: per household HouseholdRegistered (origin "import") carrying
    its members, then PovertyStatusChanged when it was imported with an assessed IDPoor
    status. `rows`: one per created household (repository.StagingTables.commit_batch)."""
    return _announce(rows)


_text = json.dumps


def _announce(rows: list[asyncpg.Record]) -> list[tuple]:
    events: list[tuple] = []
    for row in rows:
        household_id, village = row["id"], row["village_code"]
        fields = {
            "household_id": household_id,
            "household_code": row["code"],
            "village_code": village,
            "status": "pending_verification",
            "record_version": 1,
        }
        # The members arrive as the JSON of their facts; the catalog's model validates them
        # (in pydantic-core, from JSON) with the rest of the event.
        registered = HouseholdRegistered.model_validate_json(
            f'{{"household_id":"{household_id}","household_code":{_text(row["code"])},'
            f'"village_code":{_text(village)},"status":"pending_verification",'
            f'"record_version":1,"member_count":{int(row["member_count"])},'
            f'"origin":"import","members":{row["member_facts"]}}}'
        )
        events.append((registered, household_id, village))
        if row["poverty_level"] != "UNASSESSED":
            poverty = PovertyStatusChanged(
                **fields,
                level=row["poverty_level"],
                previous_level=None,
                method=row["poverty_method"],
                round_number=row["poverty_round"],
                assessed_on=row["poverty_assessed_on"],
                valid_until=row["poverty_valid_until"],
                vulnerability_categories=list(row["vulnerability_categories"]),
            )
            events.append((poverty, household_id, village))
    return events


async def _finish(database: Database, connection: asyncpg.Connection, import_id: uuid.UUID):
    async with database.transaction() as session:
        household_import = await session.get(HouseholdImport, import_id, with_for_update=True)
        assert household_import is not None
        if household_import.status != ImportStatus.COMMITTING:
            return
        finished = clock.now()
        household_import.status = ImportStatus.COMMITTED
        household_import.committed_at = finished
        household_import.updated_at = finished
        await repository.delete_file(session, import_id)
        await emit(
            session,
            ImportCompleted(
                import_id=import_id,
                admin_code=household_import.admin_code,
                households_created=household_import.households_committed,
                members_created=household_import.members_committed,
                rows_rejected=household_import.rows_with_errors,
                finished_at=finished,
            ),
            subject=import_id,
            jurisdiction=household_import.admin_code or None,
        )
    await StagingTables(connection, import_id).drop()


async def commit_import(
    database: Database,
    import_id: uuid.UUID,
    *,
    batch_households: int = COMMIT_BATCH_HOUSEHOLDS,
    max_batches: int | None = None,
    progress: Progress | None = None,
    flag_duplicates: bool = True,
) -> bool:
    """Commit (or continue committing) an import whose commit was requested; False if
    another process holds it. `max_batches` stops early, leaving it resumable;
    `flag_duplicates=False` skips the duplicates review queue (benchmarks only)."""
    async with _locked_connection(database, import_id) as connection:
        if connection is None:
            return False
        record = await repository.load_import(connection, import_id)
        if record is None or record["status"] != ImportStatus.COMMITTING:
            return True
        await _commit(
            database,
            connection,
            record,
            batch_households=batch_households,
            max_batches=max_batches,
            progress=progress,
            flag_duplicates=flag_duplicates,
        )
        return True


async def mark_failed(database: Database, import_id: uuid.UUID, reason: str) -> None:
    async with database.transaction() as session:
        await repository.set_status(
            session, import_id, status=ImportStatus.FAILED.value, failure=reason
        )


class ImportWorker:
    """Runs validations and commits as tasks of the service process."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._tasks: dict[uuid.UUID, asyncio.Task] = {}

    def schedule(self, import_id: uuid.UUID) -> None:
        task = self._tasks.get(import_id)
        if task is not None and not task.done():
            # The running task re-reads the status when it finishes its current step.
            self._tasks[import_id] = asyncio.create_task(self._after(task, import_id))
            return
        self._tasks[import_id] = asyncio.create_task(self._run(import_id))

    async def _after(self, previous: asyncio.Task, import_id: uuid.UUID) -> None:
        with contextlib.suppress(BaseException):
            await previous
        await self._run(import_id)

    async def _run(self, import_id: uuid.UUID) -> None:
        try:
            while True:
                async with self.database.sessionmaker() as session:
                    household_import = await session.get(HouseholdImport, import_id)
                status = household_import.status if household_import else None
                if status in (ImportStatus.UPLOADED, ImportStatus.VALIDATING):
                    ran = await validate_import(self.database, import_id)
                elif status == ImportStatus.COMMITTING:
                    ran = await commit_import(self.database, import_id)
                else:
                    return
                if not ran:
                    return  # another process is on it
        except asyncio.CancelledError:
            raise  # shutting down: the next start resumes it
        except Exception:
            log.exception("import %s failed", import_id)
            with contextlib.suppress(Exception):
                await mark_failed(
                    self.database, import_id, "the import stopped on an internal error"
                )

    async def resume(self) -> None:
        async with self.database.sessionmaker() as session:
            unfinished = await repository.unfinished_import_ids(session)
        for import_id in unfinished:
            log.info("resuming import %s", import_id)
            self.schedule(import_id)

    async def stop(self) -> None:
        tasks = [t for t in self._tasks.values() if not t.done()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task


def worker_of(app: FastAPI) -> ImportWorker:
    """The app's worker (created on first use, so a request can schedule work even before
    the background hook below has run)."""
    worker = getattr(app.state, "import_worker", None)
    if worker is None:
        worker = app.state.import_worker = ImportWorker(app.state.database)
    return worker


async def import_worker(app: FastAPI) -> None:
    """The app's background hook: resume unfinished imports, stop the worker at shutdown."""
    worker = worker_of(app)
    try:
        await worker.resume()
        await asyncio.Event().wait()
    finally:
        await worker.stop()
