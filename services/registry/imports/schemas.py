"""What clients receive about imports: the import with its progress, and its issues."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from services.registry.imports.models import HouseholdImport, ImportIssue

ImportStatusName = Literal[
    "uploaded", "validating", "validated", "committing", "committed", "failed", "expired"
]


class ImportProgress(BaseModel):
    """Counts that grow while the import runs; poll `GET /imports/{id}`."""

    rows_read: int = Field(description="Data rows read and checked so far.")
    rows_with_errors: int = Field(description="Rows with at least one error.")
    households_read: int = Field(description="Households in the file (after validation).")
    households_valid: int = Field(description="Households that will be (or were) created.")
    households_invalid: int = Field(description="Households skipped: a row of theirs has an error.")
    households_existing: int = Field(
        description="Households skipped: this file (or another) already imported them."
    )
    households_committed: int
    members_committed: int
    percent: int = Field(description="Rough completion of the current stage, 0-100.")


class ImportPublic(BaseModel):
    id: uuid.UUID
    file_name: str
    file_format: Literal["csv", "xlsx"]
    file_size: int = Field(description="Bytes.")
    file_sha256: str
    admin_code: str = Field(description="The uploader's area; empty for national.")
    status: ImportStatusName = Field(
        description="uploaded -> validating -> validated -> committing -> committed; "
        "failed when the file cannot be read; expired when it was left uncommitted longer "
        "than the registry keeps an upload (REGISTRY_IMPORT_RETENTION_DAYS): its file and "
        "staged rows are gone, its issues stay; upload the file again."
    )
    failure: str | None = None
    error_count: int
    warning_count: int
    progress: ImportProgress
    uploaded_by: str
    uploaded_by_name: str
    committed_by: str | None = None
    created_at: datetime
    updated_at: datetime
    validated_at: datetime | None = None
    committed_at: datetime | None = None

    @classmethod
    def of(cls, row: HouseholdImport) -> ImportPublic:
        if row.status in ("committing", "committed"):
            valid = row.households_valid
            percent = 100 * row.commit_checkpoint // valid if valid else 100
        elif row.status == "validated":
            percent = 100
        else:
            percent = 0
        return cls(
            id=row.id,
            file_name=row.file_name,
            file_format=row.file_format,
            file_size=row.file_size,
            file_sha256=row.file_sha256,
            admin_code=row.admin_code,
            status=row.status,
            failure=row.failure,
            error_count=row.error_count,
            warning_count=row.warning_count,
            progress=ImportProgress(
                rows_read=row.rows_read,
                rows_with_errors=row.rows_with_errors,
                households_read=row.households_read,
                households_valid=row.households_valid,
                households_invalid=row.households_invalid,
                households_existing=row.households_existing,
                households_committed=row.households_committed,
                members_committed=row.members_committed,
                percent=percent,
            ),
            uploaded_by=row.uploaded_by,
            uploaded_by_name=row.uploaded_by_name,
            committed_by=row.committed_by,
            created_at=row.created_at,
            updated_at=row.updated_at,
            validated_at=row.validated_at,
            committed_at=row.committed_at,
        )


class ImportIssuePublic(BaseModel):
    """One problem in the file. Errors keep the row's household out of the commit; warnings
    (likely duplicates, households imported before) do not."""

    row: int | None = Field(description="Row number as a spreadsheet shows it (header = 1).")
    column: str | None
    value: str | None
    severity: Literal["error", "warning"]
    code: str = Field(
        description="required, invalid_value, invalid_date, future_date, impossible_date, "
        "impossible_value, too_long, not_in_gazetteer, outside_jurisdiction, "
        "household_mismatch, head_count, duplicate_in_file, duplicate_in_registry, "
        "already_imported, unknown_column, duplicate_column"
    )
    reason: str
    household_ref: str | None

    @classmethod
    def of(cls, issue: ImportIssue) -> ImportIssuePublic:
        return cls(
            row=issue.row_number,
            column=issue.column_name,
            value=issue.value,
            severity=issue.severity,
            code=issue.code,
            reason=issue.reason,
            household_ref=issue.household_ref,
        )


REPORT_COLUMNS = ("row", "column", "value", "severity", "code", "reason", "household_ref")
