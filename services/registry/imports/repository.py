"""SQL of the importer.

Two kinds of access: the API's reads and small writes go through the request's SQLAlchemy
session (jurisdiction-filtered like every other registry query); the bulk work (staging the
file's rows with binary COPY, the checks across rows, the set-based commit of a batch of
households) runs on a dedicated asyncpg connection, `StagingTables` below.

Staged rows live in per-import UNLOGGED tables in the `import_staging` schema: no WAL, no
index while loading, dropped when the import is committed. Their loss in a database crash
is harmless: an import still validating starts over from its stored file, and one that
finished validating re-stages it (see service.py).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.registry.imports.models import (
    HouseholdImport,
    ImportFileChunk,
    ImportIssue,
    ImportStatus,
)
from services.registry.imports.parsing import STAGED_COLUMNS
from shared import clock
from shared.http.pagination import PageParams, paginate
from shared.jurisdiction import jurisdiction_filter
from shared.outbox import emit_many
from shared.principal import Principal

UNFINISHED = (ImportStatus.UPLOADED, ImportStatus.VALIDATING, ImportStatus.COMMITTING)
GENERATION_CHUNK = 20_000
ISSUE_COLUMNS = (
    "import_id",
    "row_number",
    "column_name",
    "value",
    "severity",
    "code",
    "reason",
    "household_ref",
)

# --- through the request's session ------------------------------------------------------


async def add_import(session: AsyncSession, household_import: HouseholdImport) -> None:
    session.add(household_import)
    await session.flush()


async def add_file_chunk(session: AsyncSession, import_id: uuid.UUID, seq: int, data: bytes):
    # A Core insert: a file is hundreds of chunks, whose bytes must not stay in the session.
    await session.execute(
        insert(ImportFileChunk.__table__).values(import_id=import_id, seq=seq, data=data)
    )


async def find_by_idempotency_key(
    session: AsyncSession, uploaded_by: str, key: str
) -> HouseholdImport | None:
    return (
        await session.execute(
            select(HouseholdImport).where(
                HouseholdImport.uploaded_by == uploaded_by,
                HouseholdImport.idempotency_key == key,
            )
        )
    ).scalar_one_or_none()


async def get_visible(
    session: AsyncSession, principal: Principal, import_id: uuid.UUID, *, for_update=False
) -> HouseholdImport | None:
    statement = select(HouseholdImport).where(
        HouseholdImport.id == import_id,
        jurisdiction_filter(principal, HouseholdImport.admin_code),
    )
    if for_update:
        statement = statement.with_for_update()
    return (await session.execute(statement)).scalar_one_or_none()


async def list_visible(
    session: AsyncSession, principal: Principal, *, page: PageParams, status: str | None
) -> tuple[list[HouseholdImport], str | None]:
    statement = select(HouseholdImport).where(
        jurisdiction_filter(principal, HouseholdImport.admin_code)
    )
    if status:
        statement = statement.where(HouseholdImport.status == status)
    return await paginate(
        session,
        statement,
        order_by=[HouseholdImport.created_at, HouseholdImport.id],
        page=page,
    )


async def list_issues(
    session: AsyncSession, import_id: uuid.UUID, *, page: PageParams, severity: str | None
) -> tuple[list[ImportIssue], str | None]:
    statement = select(ImportIssue).where(ImportIssue.import_id == import_id)
    if severity:
        statement = statement.where(ImportIssue.severity == severity)
    # Issues about the header (row 1) first, then by row.
    return await paginate(
        session,
        statement,
        order_by=[ImportIssue.row_number, ImportIssue.id],
        page=page,
    )


async def stream_issues(engine: AsyncEngine, import_id: uuid.UUID) -> AsyncIterator[Sequence[Any]]:
    """Every issue of an import in row order, fetched in chunks (for the CSV report)."""
    async with engine.connect() as connection:
        result = await connection.stream(
            select(
                ImportIssue.row_number,
                ImportIssue.column_name,
                ImportIssue.value,
                ImportIssue.severity,
                ImportIssue.code,
                ImportIssue.reason,
                ImportIssue.household_ref,
            )
            .where(ImportIssue.import_id == import_id)
            .order_by(ImportIssue.row_number, ImportIssue.id)
            .execution_options(yield_per=5000)
        )
        async for partition in result.partitions(5000):
            yield partition


async def unfinished_import_ids(session: AsyncSession) -> list[uuid.UUID]:
    rows = await session.execute(
        select(HouseholdImport.id)
        .where(HouseholdImport.status.in_([s.value for s in UNFINISHED]))
        .order_by(HouseholdImport.created_at)
    )
    return list(rows.scalars())


async def delete_file(session: AsyncSession, import_id: uuid.UUID) -> None:
    await session.execute(delete(ImportFileChunk).where(ImportFileChunk.import_id == import_id))


async def expire_stale_imports(session: AsyncSession, *, older_than: datetime, limit: int) -> int:
    """Validated or failed imports untouched since `older_than`: their stored file and staged
    rows are dropped and they become `expired` (the issues stay, for the report). One no
    process is working on (its advisory lock is free) and no commit request holds. Returns
    how many expired."""
    stale = await session.scalars(
        select(HouseholdImport.id)
        .where(
            HouseholdImport.status.in_([ImportStatus.VALIDATED, ImportStatus.FAILED]),
            HouseholdImport.updated_at < older_than,
        )
        .order_by(HouseholdImport.updated_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    expired = 0
    for import_id in stale.all():
        free = await session.scalar(select(func.pg_try_advisory_xact_lock(_lock_key(import_id))))
        if not free:
            continue
        for statement in StagingTables.drop_statements(import_id):
            await session.execute(text(statement))
        await delete_file(session, import_id)
        await set_status(session, import_id, status=ImportStatus.EXPIRED)
        expired += 1
    return expired


async def set_status(session: AsyncSession, import_id: uuid.UUID, **values: Any) -> None:
    await session.execute(
        update(HouseholdImport)
        .where(HouseholdImport.id == import_id)
        .values(updated_at=clock.now(), **values)
    )


# --- bulk work on a dedicated asyncpg connection -----------------------------------------


def _lock_key(import_id: uuid.UUID) -> int:
    # A stable signed 64-bit key per import for pg_advisory_lock.
    return int.from_bytes(import_id.bytes[:8], "big", signed=True)


async def try_lock(connection: asyncpg.Connection, import_id: uuid.UUID) -> bool:
    """Only one process works on an import at a time (held until the connection closes)."""
    return await connection.fetchval("SELECT pg_try_advisory_lock($1)", _lock_key(import_id))


async def load_import(connection: asyncpg.Connection, import_id: uuid.UUID) -> asyncpg.Record:
    return await connection.fetchrow("SELECT * FROM household_import WHERE id = $1", import_id)


async def update_import(connection: asyncpg.Connection, import_id: uuid.UUID, **values: Any):
    assignments = ", ".join(f"{name} = ${i}" for i, name in enumerate(values, start=2))
    await connection.execute(
        f"UPDATE household_import SET {assignments}, updated_at = ${len(values) + 2} WHERE id = $1",
        import_id,
        *values.values(),
        clock.now(),
    )


async def advance_checkpoint(connection: asyncpg.Connection, import_id: uuid.UUID, to: int):
    await connection.execute(
        "UPDATE household_import SET commit_checkpoint = greatest(commit_checkpoint, $2), "
        "updated_at = $3 WHERE id = $1",
        import_id,
        to,
        clock.now(),
    )


async def file_chunks(connection: asyncpg.Connection, import_id: uuid.UUID) -> AsyncIterator[bytes]:
    async with connection.transaction():
        async for record in connection.cursor(
            "SELECT data FROM household_import_file WHERE import_id = $1 ORDER BY seq",
            import_id,
            prefetch=4,
        ):
            yield record["data"]


async def add_issues(
    connection: asyncpg.Connection, import_id: uuid.UUID, issues: list[tuple]
) -> None:
    if issues:
        await connection.copy_records_to_table(
            "household_import_issue",
            records=[(import_id, *issue) for issue in issues],
            columns=ISSUE_COLUMNS,
        )


async def clear_issues(connection: asyncpg.Connection, import_id: uuid.UUID) -> None:
    await connection.execute("DELETE FROM household_import_issue WHERE import_id = $1", import_id)


async def issue_counts(connection: asyncpg.Connection, import_id: uuid.UUID) -> asyncpg.Record:
    return await connection.fetchrow(
        """
        SELECT count(*) FILTER (WHERE severity = 'error') AS errors,
               count(*) FILTER (WHERE severity = 'warning') AS warnings,
               count(DISTINCT row_number) FILTER (WHERE severity = 'error' AND row_number > 1)
                   AS rows_with_errors
        FROM household_import_issue WHERE import_id = $1
        """,
        import_id,
    )


class StagingTables:
    """The per-import staging tables and every set-based statement over them."""

    SCHEMA = "import_staging"

    def __init__(self, connection: asyncpg.Connection, import_id: uuid.UUID) -> None:
        self.connection = connection
        self.import_id = import_id
        self.rows_name = f"rows_{import_id.hex}"
        self.rows, self.households, self.members = self.names(import_id)

    @classmethod
    def names(cls, import_id: uuid.UUID) -> tuple[str, str, str]:
        """The import's rows, households and members tables, schema-qualified."""
        return tuple(f"{cls.SCHEMA}.{t}_{import_id.hex}" for t in ("rows", "households", "members"))

    @classmethod
    def drop_statements(cls, import_id: uuid.UUID) -> list[str]:
        return [f"DROP TABLE IF EXISTS {name}" for name in cls.names(import_id)[::-1]]

    async def exist(self) -> bool:
        return bool(
            await self.connection.fetchval(
                "SELECT to_regclass($1) IS NOT NULL AND to_regclass($2) IS NOT NULL "
                "AND to_regclass($3) IS NOT NULL",
                self.rows,
                self.households,
                self.members,
            )
        )

    async def drop(self) -> None:
        await self.connection.execute("; ".join(self.drop_statements(self.import_id)))

    async def create(self) -> None:
        await self.drop()
        await self.connection.execute(
            f"""
            CREATE UNLOGGED TABLE {self.rows} (
                row_number integer NOT NULL,
                household_ref text,
                village_code text,
                address text,
                poverty_level text,
                poverty_score integer,
                poverty_method text,
                poverty_round integer,
                poverty_assessed_on date,
                poverty_valid_until date,
                equity_card_number text,
                vulnerability_categories text[],
                relationship text,
                family_name_km text,
                given_name_km text,
                family_name_latin text,
                given_name_latin text,
                sex text,
                birth_date date,
                birth_date_estimated boolean NOT NULL,
                national_id text,
                phone text,
                disability_severity text,
                disability_card_number text,
                pregnant boolean NOT NULL,
                pregnancy_expected_on date,
                school_enrolment text,
                has_error boolean NOT NULL,
                -- Time-ordered ids: the member table's indexes take them as appends.
                member_id uuid NOT NULL DEFAULT uuidv7()
            ) WITH (autovacuum_enabled = false)
            """
        )

    async def copy_rows(self, records: list[tuple]) -> None:
        await self.connection.copy_records_to_table(
            self.rows_name, schema_name=self.SCHEMA, records=records, columns=STAGED_COLUMNS
        )

    async def check_across_rows(
        self,
        *,
        area: str,
        generations: Callable[[list[asyncpg.Record]], list[tuple]],
        generation_relationships: Sequence[str],
    ) -> None:
        """The checks that need more than one row, written as issues; then the households
        table: one row per household, numbered 1..n among the committable ones.

        `generations` is the rulebook's check of a member against its household's head: it
        gets the members whose relationship is in `generation_relationships`, with their
        head's birth date (parsing.GENERATION_COLUMNS), in chunks, and returns issues."""
        async with self.connection.transaction():
            await self._check_across_rows(area, generations, generation_relationships)

    async def _check_across_rows(
        self,
        area: str,
        generations: Callable[[list[asyncpg.Record]], list[tuple]],
        generation_relationships: Sequence[str],
    ) -> None:
        c = self.connection
        rows, households, members = self.rows, self.households, self.members
        import_id = self.import_id
        await c.execute(f"CREATE INDEX ON {rows} (household_ref, row_number)")
        await c.execute(f"CREATE UNIQUE INDEX ON {rows} (row_number)")
        # Statistics only of the columns the statements below join, group or filter on.
        await c.execute(
            f"ANALYZE {rows} (row_number, household_ref, village_code, birth_date, "
            "national_id, phone, relationship)"
        )
        await c.execute(
            f"""
            CREATE TEMP TABLE import_households ON COMMIT DROP AS
            SELECT s.household_ref, s.first_row, s.member_count, s.heads, s.head_row,
                   s.row_errors, f.village_code,
                   'import:' || encode(sha256(convert_to(
                       left(f.village_code, 6) || '|' || f.village_code || '|' || s.household_ref,
                       'UTF8')), 'hex') AS source_ref
            FROM (
                SELECT household_ref, min(row_number) AS first_row, count(*) AS member_count,
                       count(*) FILTER (WHERE relationship = 'head') AS heads,
                       min(row_number) FILTER (WHERE relationship = 'head') AS head_row,
                       bool_or(has_error) AS row_errors
                FROM {rows} WHERE household_ref IS NOT NULL GROUP BY household_ref
            ) s JOIN {rows} f ON f.row_number = s.first_row
            """
        )
        insert = (
            "INSERT INTO household_import_issue (import_id, row_number, column_name, value, "
            "severity, code, reason, household_ref) "
        )
        # Household columns: read from the household's first row; later rows may repeat them
        # or leave them blank, but not say something else.
        await c.execute(
            insert
            + f"""
            SELECT $1::uuid, r.row_number, d.col, d.val, 'error', 'household_mismatch',
                   'differs from the household''s first row (row ' || h.first_row || ': '
                   || coalesce(d.first, 'blank') || ')', r.household_ref
            FROM {rows} r
            JOIN import_households h USING (household_ref)
            JOIN {rows} f ON f.row_number = h.first_row
            CROSS JOIN LATERAL (VALUES
                ('village_code', r.village_code, f.village_code),
                ('address', r.address, f.address),
                ('poverty_level', r.poverty_level, f.poverty_level),
                ('poverty_score', r.poverty_score::text, f.poverty_score::text),
                ('poverty_method', r.poverty_method, f.poverty_method),
                ('poverty_round', r.poverty_round::text, f.poverty_round::text),
                ('poverty_assessed_on', r.poverty_assessed_on::text, f.poverty_assessed_on::text),
                ('poverty_valid_until', r.poverty_valid_until::text, f.poverty_valid_until::text),
                ('equity_card_number', r.equity_card_number, f.equity_card_number),
                ('vulnerability_categories', array_to_string(r.vulnerability_categories, ';'),
                 array_to_string(f.vulnerability_categories, ';'))
            ) AS d(col, val, first)
            WHERE r.row_number <> h.first_row
              AND (r.village_code IS DISTINCT FROM f.village_code OR r.address IS NOT NULL
                   OR r.poverty_level IS NOT NULL OR r.poverty_score IS NOT NULL
                   OR r.poverty_method IS NOT NULL OR r.poverty_round IS NOT NULL
                   OR r.poverty_assessed_on IS NOT NULL OR r.poverty_valid_until IS NOT NULL
                   OR r.equity_card_number IS NOT NULL OR r.vulnerability_categories IS NOT NULL)
              AND d.val IS NOT NULL AND d.val IS DISTINCT FROM d.first
            """,
            import_id,
        )
        # Exactly one head per household.
        await c.execute(
            insert
            + f"""
            SELECT $1::uuid, h.first_row, 'relationship', NULL, 'error', 'head_count',
                   'household ' || h.household_ref || ' has no head (exactly one member must '
                   || 'be the head)', h.household_ref
            FROM import_households h WHERE h.heads = 0
            UNION ALL
            SELECT $1::uuid, r.row_number, 'relationship', r.relationship, 'error', 'head_count',
                   'household ' || h.household_ref || ' has ' || h.heads || ' heads (row '
                   || h.head_row || ' is the first); exactly one member must be the head',
                   h.household_ref
            FROM import_households h JOIN {rows} r USING (household_ref)
            WHERE h.heads > 1 AND r.relationship = 'head' AND r.row_number <> h.head_row
            """,
            import_id,
        )
        # Duplicates inside the file: the first occurrence stands, later ones are errors.
        await c.execute(
            insert
            + f"""
            SELECT $1::uuid, r.row_number, 'national_id', r.national_id, 'error',
                   'duplicate_in_file', 'the same national ID is on row ' || d.first_row,
                   r.household_ref
            FROM (SELECT national_id, min(row_number) AS first_row FROM {rows}
                  WHERE national_id IS NOT NULL GROUP BY national_id HAVING count(*) > 1) d
            JOIN {rows} r USING (national_id)
            WHERE r.row_number > d.first_row
            UNION ALL
            SELECT $1::uuid, r.row_number, 'given_name_latin',
                   r.family_name_latin || ' ' || r.given_name_latin, 'error',
                   'duplicate_in_file',
                   'the same person (Latin name, birth date, village) is on row ' || d.first_row,
                   r.household_ref
            FROM (SELECT lower(family_name_latin || ' ' || given_name_latin) AS name,
                         birth_date, village_code, min(row_number) AS first_row
                  FROM {rows}
                  WHERE family_name_latin IS NOT NULL AND given_name_latin IS NOT NULL
                    AND birth_date IS NOT NULL AND village_code IS NOT NULL
                  GROUP BY 1, 2, 3 HAVING count(*) > 1) d
            JOIN {rows} r ON lower(r.family_name_latin || ' ' || r.given_name_latin) = d.name
                 AND r.birth_date = d.birth_date AND r.village_code = d.village_code
            WHERE r.row_number > d.first_row
            """,
            import_id,
        )
        # Against the registry: households this file already created are skipped; people
        # already registered elsewhere are imported but flagged (a warning) for review.
        await c.execute(
            """
            ALTER TABLE import_households ADD COLUMN existing_id uuid,
                                          ADD COLUMN existing_code text;
            UPDATE import_households h SET existing_id = x.id, existing_code = x.code
            FROM household x WHERE x.source_ref = h.source_ref
            """
        )
        await c.execute(
            insert
            + """
            SELECT $1::uuid, h.first_row, 'household_ref', h.household_ref, 'warning',
                   'already_imported',
                   'this household was imported before as ' || h.existing_code
                   || '; it is skipped', h.household_ref
            FROM import_households h WHERE h.existing_id IS NOT NULL
            """,
            import_id,
        )
        where_found = (
            "CASE WHEN starts_with(x.village_code, $2) THEN 'household ' || x.code "
            "ELSE 'a household outside your area' END"
        )
        await c.execute(
            insert
            + f"""
            SELECT $1::uuid, r.row_number, 'national_id', r.national_id, 'warning',
                   'duplicate_in_registry',
                   'this national ID is already registered (' || {where_found} || ')',
                   r.household_ref
            FROM {rows} r
            JOIN import_households h USING (household_ref)
            JOIN member m ON m.national_id = r.national_id AND m.status = 'active'
            JOIN household x ON x.id = m.household_id
            WHERE r.national_id IS NOT NULL AND h.existing_id IS NULL
            UNION ALL
            SELECT $1::uuid, r.row_number, 'phone', r.phone, 'warning', 'duplicate_in_registry',
                   'this phone number is already registered (' || {where_found} || ')',
                   r.household_ref
            FROM {rows} r
            JOIN import_households h USING (household_ref)
            JOIN member m ON m.phone = r.phone AND m.status = 'active'
            JOIN household x ON x.id = m.household_id
            WHERE r.phone IS NOT NULL AND h.existing_id IS NULL
            UNION ALL
            SELECT $1::uuid, r.row_number, 'given_name_latin',
                   r.family_name_latin || ' ' || r.given_name_latin, 'warning',
                   'duplicate_in_registry',
                   'a person with this Latin name and birth date is registered in the same '
                   || 'commune (' || {where_found} || ')', r.household_ref
            FROM {rows} r
            JOIN import_households h USING (household_ref)
            JOIN member m
              ON m.full_name_latin = lower(r.family_name_latin || ' ' || r.given_name_latin)
             AND m.birth_date = r.birth_date AND m.status = 'active'
             AND left(m.village_code, 6) = left(r.village_code, 6)
            JOIN household x ON x.id = m.household_id
            WHERE r.family_name_latin IS NOT NULL AND r.given_name_latin IS NOT NULL
              AND r.birth_date IS NOT NULL AND h.existing_id IS NULL
            """,
            import_id,
            area,
        )
        # Generations against the head (households with exactly one head), judged in Python
        # by the rulebook: one pass over the members it judges, fetched in chunks from one
        # portal (kept open until the transaction ends: nothing below alters these tables).
        cursor = await c.cursor(
            f"""
            SELECT r.row_number, r.household_ref, r.relationship, r.birth_date,
                   r.birth_date_estimated, hd.birth_date, hd.birth_date_estimated
            FROM import_households h
            JOIN {rows} r USING (household_ref)
            JOIN {rows} hd ON hd.row_number = h.head_row
            WHERE h.heads = 1 AND r.relationship = ANY($1::text[])
              AND r.birth_date IS NOT NULL AND hd.birth_date IS NOT NULL
            """,
            list(generation_relationships),
        )
        while chunk := await cursor.fetch(GENERATION_CHUNK):
            await add_issues(c, import_id, generations(chunk))
        # The tables the commit works through, so that a batch reads only its own rows (two
        # index ranges), never the whole staged file: the households, each with its first
        # row's household columns, and the committable households' members, in commit order.
        await c.execute(
            f"""
            CREATE UNLOGGED TABLE {households} WITH (autovacuum_enabled = false) AS
            SELECT h.household_ref, h.first_row, h.member_count, h.village_code, h.source_ref,
                   f.address, f.poverty_level, f.poverty_score, f.poverty_method,
                   f.poverty_round, f.poverty_assessed_on, f.poverty_valid_until,
                   f.equity_card_number, f.vulnerability_categories,
                   h.existing_id, e.household_ref IS NULL AND NOT h.row_errors AS valid,
                   CASE WHEN e.household_ref IS NULL AND NOT h.row_errors
                             AND h.existing_id IS NULL
                        THEN row_number() OVER (
                            PARTITION BY e.household_ref IS NULL AND NOT h.row_errors
                                         AND h.existing_id IS NULL
                            ORDER BY h.first_row)
                   END AS ordinal,
                   uuidv7() AS household_id, head.member_id AS head_member_id
            FROM import_households h
            JOIN {rows} f ON f.row_number = h.first_row
            LEFT JOIN (SELECT DISTINCT household_ref FROM household_import_issue
                       WHERE import_id = $1 AND severity = 'error'
                         AND household_ref IS NOT NULL) e
                ON e.household_ref = h.household_ref
            LEFT JOIN {rows} head ON head.row_number = h.head_row
            ORDER BY h.first_row
            """,
            import_id,
        )
        await c.execute(f"CREATE INDEX ON {households} (ordinal) WHERE ordinal IS NOT NULL")
        await c.execute(f"ANALYZE {households} (ordinal, household_id, household_ref)")
        await c.execute(
            f"""
            CREATE UNLOGGED TABLE {members} WITH (autovacuum_enabled = false) AS
            SELECT h.ordinal, r.row_number, r.member_id, r.family_name_km, r.given_name_km,
                   r.family_name_latin, r.given_name_latin, r.sex, r.birth_date,
                   r.birth_date_estimated, r.relationship, r.national_id, r.phone,
                   r.disability_severity, r.disability_card_number, r.pregnant,
                   r.pregnancy_expected_on, r.school_enrolment
            FROM {households} h JOIN {rows} r USING (household_ref)
            WHERE h.ordinal IS NOT NULL
            ORDER BY h.ordinal, r.row_number
            """
        )
        await c.execute(f"CREATE INDEX ON {members} (ordinal)")
        await c.execute(f"ANALYZE {members} (ordinal)")

    async def household_counts(self) -> asyncpg.Record:
        return await self.connection.fetchrow(
            f"""
            SELECT count(*) AS households,
                   count(*) FILTER (WHERE valid AND existing_id IS NULL) AS committable,
                   count(*) FILTER (WHERE NOT valid) AS invalid,
                   count(*) FILTER (WHERE valid AND existing_id IS NOT NULL) AS existing
            FROM {self.households}
            """
        )

    async def commit_batch(
        self,
        *,
        after: int,
        codes: list[str],
        actor: dict[str, Any],
        announce: Callable[[list[asyncpg.Record]], Iterable[tuple]],
        checkpoint: Callable[[], int] | None = None,
    ) -> list[uuid.UUID]:
        """Create households `after+1 .. after+len(codes)` (with these codes), their members,
        history, IDPoor history and their events: `announce` gets one record per created
        household with its members' facts as arrays, and returns the events, written with
        `emit_many`; advance the checkpoint to
        `checkpoint()` (asked just before the transaction commits; default: the end of this
        batch), never backwards. One transaction: a crash leaves the batch either wholly done
        or not at all. Returns the ids of the households created."""
        c = self.connection
        last = after + len(codes)
        async with c.transaction():
            announced = await c.fetch(
                f"""
                WITH batch AS MATERIALIZED (
                    -- A range of the ordinal index, so the planner knows it is one batch;
                    -- the batch's codes in ordinal order.
                    SELECT h.*, c.code
                    FROM {self.households} h
                    JOIN unnest($1::text[]) WITH ORDINALITY AS c(code, n)
                      ON h.ordinal = $2 + c.n
                    WHERE h.ordinal > $2 AND h.ordinal <= $2 + cardinality($1::text[])
                ),
                created AS (
                    INSERT INTO household (
                        id, version, code, village_code, address, head_member_id, status,
                        returned_reasons, poverty_level, poverty_score, poverty_method,
                        poverty_round, poverty_assessed_on, poverty_valid_until,
                        equity_card_number, vulnerability_categories, source_ref,
                        created_at, created_by, updated_at, updated_by)
                    SELECT b.household_id, 1, b.code, b.village_code, coalesce(b.address, ''),
                           b.head_member_id, 'pending_verification', '{{}}',
                           coalesce(b.poverty_level, 'UNASSESSED'), b.poverty_score,
                           b.poverty_method, b.poverty_round, b.poverty_assessed_on,
                           b.poverty_valid_until, b.equity_card_number,
                           coalesce(b.vulnerability_categories, '{{}}'), b.source_ref,
                           $9, $3, $9, $3
                    FROM batch b
                    ORDER BY b.ordinal
                    ON CONFLICT (source_ref) DO NOTHING
                    RETURNING id, code, village_code, address, head_member_id,
                              poverty_level, poverty_score,
                              poverty_method, poverty_round, poverty_assessed_on,
                              poverty_valid_until, equity_card_number,
                              vulnerability_categories
                ),
                members AS (
                    INSERT INTO member (
                        id, version, household_id, village_code, family_name_km, given_name_km,
                        family_name_latin, given_name_latin, sex, birth_date,
                        birth_date_estimated, relationship, national_id, phone,
                        disability_severity, disability_card_number, pregnant,
                        pregnancy_expected_on, school_enrolment, status,
                        created_at, created_by, updated_at, updated_by)
                    SELECT r.member_id, 1, h.id, h.village_code, r.family_name_km,
                           r.given_name_km, r.family_name_latin, r.given_name_latin, r.sex,
                           r.birth_date, r.birth_date_estimated, r.relationship, r.national_id,
                           r.phone, r.disability_severity, r.disability_card_number, r.pregnant,
                           r.pregnancy_expected_on, r.school_enrolment, 'active',
                           $9, $3, $9, $3
                    FROM {self.members} r
                    JOIN batch b ON b.ordinal = r.ordinal
                    JOIN created h ON h.id = b.household_id
                    WHERE r.ordinal > $2 AND r.ordinal <= $2 + cardinality($1::text[])
                    ORDER BY r.ordinal, r.row_number
                    RETURNING 1
                ),
                history AS (
                    INSERT INTO record_change (entity, entity_id, household_id, village_code,
                        action, changes, actor_sub, actor_name, actor_tier, actor_admin_code,
                        request_id)
                    SELECT 'household', h.id, h.id, h.village_code, 'registered',
                           jsonb_build_object('code', h.code, 'village_code', h.village_code,
                               'address', h.address, 'status', 'pending_verification',
                               'head_member_id', h.head_member_id,
                               'member_count', b.member_count, 'origin', 'import',
                               'import_id', $4::text, 'household_ref', b.household_ref,
                               'file_row', b.first_row),
                           $3, $5, $6, $7, $8
                    FROM created h JOIN batch b ON b.household_id = h.id
                ),
                poverty AS (
                    INSERT INTO poverty_status_history (household_id, level, score, method,
                        round_number, assessed_on, valid_until, equity_card_number,
                        vulnerability_categories, recorded_by)
                    SELECT id, poverty_level, poverty_score, poverty_method, poverty_round,
                           poverty_assessed_on, poverty_valid_until, equity_card_number,
                           vulnerability_categories, $3
                    FROM created
                    WHERE poverty_level <> 'UNASSESSED' OR cardinality(vulnerability_categories) > 0
                ),
                announced AS (
                    -- The created households with their members' facts (as arrays, in file
                    -- order), for their events, built by the caller from the catalog's
                    -- models. One range of the members' ordinal index, grouped.
                    SELECT b.ordinal, h.id, any_value(h.code) AS code,
                           any_value(h.village_code) AS village_code,
                           any_value(b.member_count) AS member_count,
                           any_value(h.poverty_level) AS poverty_level,
                           any_value(h.poverty_method) AS poverty_method,
                           any_value(h.poverty_round) AS poverty_round,
                           any_value(h.poverty_assessed_on) AS poverty_assessed_on,
                           any_value(h.poverty_valid_until) AS poverty_valid_until,
                           any_value(h.vulnerability_categories) AS vulnerability_categories,
                           -- The members' facts as JSON text, validated by the event
                           -- model on arrival (cheaper than decoding arrays of uuids).
                           json_agg(json_build_object(
                               'member_id', r.member_id, 'relationship', r.relationship,
                               'sex', r.sex,
                               'birth_year', extract(year FROM r.birth_date)::int)
                             ORDER BY r.row_number)::text AS member_facts
                    FROM created h
                    JOIN batch b ON b.household_id = h.id
                    JOIN {self.members} r ON r.ordinal = b.ordinal
                    WHERE r.ordinal > $2 AND r.ordinal <= $2 + cardinality($1::text[])
                    GROUP BY b.ordinal, h.id
                )
                SELECT announced.*, (SELECT count(*) FROM members) AS members
                FROM announced ORDER BY ordinal
                """,
                codes,
                after,
                actor["sub"],
                str(self.import_id),
                actor["name"],
                actor["tier"],
                actor["admin_code"],
                actor["request_id"],
                clock.now(),
            )
            # The events: built by the caller from the catalog's models, one multi-row
            # insert into the outbox (with its NOTIFY), in the batch's transaction.
            await emit_many(c, announce(announced))
            household_ids = [row["id"] for row in announced]
            created = len(household_ids)
            members = announced[0]["members"] if announced else 0
            await c.execute(
                """
                UPDATE household_import
                SET commit_checkpoint = greatest(commit_checkpoint, $2),
                    households_committed = households_committed + $3,
                    members_committed = members_committed + $4,
                    updated_at = $5
                WHERE id = $1
                """,
                self.import_id,
                last if checkpoint is None else checkpoint(),
                created,
                members,
                clock.now(),
            )
        return household_ids


async def next_household_numbers(connection: asyncpg.Connection, count: int) -> list[int]:
    rows = await connection.fetch(
        "SELECT nextval('household_code_seq') FROM generate_series(1, $1)", count
    )
    return [r[0] for r in rows]
