"""Bulk imports of households with members: the import, its uploaded file, its issues.

Revision ID: 0005
Revises: 0002
Create Date: 2026-11-21

The rows of a file being validated and committed live in per-import UNLOGGED tables in the
`import_staging` schema (created and dropped by the importer), so a large file never bloats
a shared table and its rows need no WAL.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def _count(name: str) -> sa.Column:
    return sa.Column(name, sa.BigInteger, nullable=False, server_default="0")


def upgrade() -> None:
    op.execute("CREATE SCHEMA IF NOT EXISTS import_staging")
    op.create_table(
        "household_import",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("file_format", sa.Text, nullable=False),
        sa.Column("file_size", sa.BigInteger, nullable=False),
        sa.Column("file_sha256", sa.Text, nullable=False),
        # The uploader's area ("" for national): who may see and commit the import.
        sa.Column("admin_code", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("failure", sa.Text),
        sa.Column("uploaded_by", sa.Text, nullable=False),
        sa.Column("uploaded_by_name", sa.Text, nullable=False, server_default=""),
        sa.Column("uploaded_by_tier", sa.Text),
        sa.Column("committed_by", sa.Text),
        sa.Column("committed_by_name", sa.Text),
        sa.Column("committed_by_tier", sa.Text),
        sa.Column("committed_by_admin_code", sa.Text),
        sa.Column("request_id", sa.Text),
        # A retried upload with the same Idempotency-Key finds this import again.
        sa.Column("idempotency_key", sa.Text),
        _count("rows_read"),
        _count("rows_with_errors"),
        _count("error_count"),
        _count("warning_count"),
        _count("households_read"),
        _count("households_valid"),
        _count("households_invalid"),
        _count("households_existing"),
        _count("households_committed"),
        _count("members_committed"),
        # Committable households are numbered 1..households_valid; batches commit them in
        # order and this is the last one committed, in the batch's own transaction.
        _count("commit_checkpoint"),
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("validated_at", TZ),
        sa.Column("committed_at", TZ),
        sa.CheckConstraint(
            "status IN ('uploaded', 'validating', 'validated', 'committing', 'committed', "
            "'failed')",
            name="status",
        ),
        sa.CheckConstraint("file_format IN ('csv', 'xlsx')", name="file_format"),
    )
    op.execute(
        "CREATE INDEX ix_household_import_admin_code ON household_import "
        "(admin_code text_pattern_ops)"
    )
    op.execute(
        "CREATE UNIQUE INDEX uq_household_import_idempotency_key ON household_import "
        "(uploaded_by, idempotency_key) WHERE idempotency_key IS NOT NULL"
    )
    op.create_index("ix_household_import_created_at", "household_import", ["created_at", "id"])
    op.execute(
        "CREATE INDEX ix_household_import_unfinished ON household_import (status) "
        "WHERE status IN ('uploaded', 'validating', 'committing')"
    )

    op.create_table(
        "household_import_file",
        sa.Column(
            "import_id",
            sa.Uuid,
            sa.ForeignKey("household_import.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    # Spreadsheets are already compressed and CSV chunks are read once: skip pglz.
    op.execute("ALTER TABLE household_import_file ALTER COLUMN data SET STORAGE EXTERNAL")

    op.create_table(
        "household_import_issue",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column(
            "import_id",
            sa.Uuid,
            sa.ForeignKey("household_import.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("row_number", sa.Integer),  # null: about the whole file
        sa.Column("column_name", sa.Text),
        sa.Column("value", sa.Text),
        sa.Column("severity", sa.Text, nullable=False),
        sa.Column("code", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("household_ref", sa.Text),
        sa.CheckConstraint("severity IN ('error', 'warning')", name="severity"),
    )
    op.create_index(
        "ix_household_import_issue_row",
        "household_import_issue",
        ["import_id", "row_number", "id"],
    )


def downgrade() -> None:
    op.drop_table("household_import_issue")
    op.drop_table("household_import_file")
    op.drop_table("household_import")
    op.execute("DROP SCHEMA IF EXISTS import_staging CASCADE")
