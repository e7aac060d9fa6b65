"""A bulk import: one uploaded file of households with members, validated, then committed.

The import's state lives in the database (status, counts, the commit checkpoint), so the
progress a client polls is the truth and a restarted process can pick up where it stopped.
The uploaded file is kept in `household_import_file` chunks until the import is committed,
or until it expires uncommitted (see `ImportStatus.EXPIRED`).
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from services.registry.database import RegistryModel
from shared import clock


class ImportStatus(enum.StrEnum):
    UPLOADED = "uploaded"  # stored; validation not started yet
    VALIDATING = "validating"
    VALIDATED = "validated"  # report ready; waiting for a commit
    COMMITTING = "committing"
    COMMITTED = "committed"
    FAILED = "failed"  # the file could not be read at all (see `failure`)
    # Validated (or failed) and left uncommitted past REGISTRY_IMPORT_RETENTION_DAYS: the
    # stored file and staged rows are gone; the report of issues stays.
    EXPIRED = "expired"


class FileFormat(enum.StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


class HouseholdImport(RegistryModel, table=True):
    __tablename__ = "household_import"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    file_name: str = Field(max_length=255)
    file_format: str
    file_size: int = Field(sa_type=sa.BigInteger)
    file_sha256: str
    admin_code: str  # the uploader's area, "" for national
    status: str = Field(default=ImportStatus.UPLOADED)
    failure: str | None = None
    uploaded_by: str
    uploaded_by_name: str = ""
    uploaded_by_tier: str | None = None
    committed_by: str | None = None
    committed_by_name: str | None = None
    committed_by_tier: str | None = None
    committed_by_admin_code: str | None = None
    request_id: str | None = None
    idempotency_key: str | None = None

    rows_read: int = Field(default=0, sa_type=sa.BigInteger)
    rows_with_errors: int = Field(default=0, sa_type=sa.BigInteger)
    error_count: int = Field(default=0, sa_type=sa.BigInteger)
    warning_count: int = Field(default=0, sa_type=sa.BigInteger)
    households_read: int = Field(default=0, sa_type=sa.BigInteger)
    households_valid: int = Field(default=0, sa_type=sa.BigInteger)
    households_invalid: int = Field(default=0, sa_type=sa.BigInteger)
    households_existing: int = Field(default=0, sa_type=sa.BigInteger)
    households_committed: int = Field(default=0, sa_type=sa.BigInteger)
    members_committed: int = Field(default=0, sa_type=sa.BigInteger)
    commit_checkpoint: int = Field(default=0, sa_type=sa.BigInteger)

    created_at: datetime = Field(default_factory=clock.now, sa_type=sa.DateTime(timezone=True))
    updated_at: datetime = Field(default_factory=clock.now, sa_type=sa.DateTime(timezone=True))
    validated_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    committed_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))


class ImportFileChunk(RegistryModel, table=True):
    __tablename__ = "household_import_file"

    import_id: uuid.UUID = Field(foreign_key="household_import.id", primary_key=True)
    seq: int = Field(primary_key=True)
    data: bytes = Field(sa_type=sa.LargeBinary)


class ImportIssue(RegistryModel, table=True):
    """One problem found in the file: the row (1 = the header), column, value and why."""

    __tablename__ = "household_import_issue"

    id: int | None = Field(default=None, primary_key=True, sa_type=sa.BigInteger)
    import_id: uuid.UUID = Field(foreign_key="household_import.id")
    row_number: int | None = None
    column_name: str | None = None
    value: str | None = None
    # "error": the row's household is not imported; "warning": imported, but worth a look
    # (e.g. a likely duplicate).
    severity: str
    code: str
    reason: str
    household_ref: str | None = None
