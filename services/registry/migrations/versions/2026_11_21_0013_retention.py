"""Retention: imports left uncommitted expire; DCI callbacks and search answers are not kept
for ever.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-21

- `household_import.status` may be `expired` (its file and staged rows dropped).
- `dci_transaction.results_purged_at`: when the records were dropped from a search's stored
  answer; the request and each answer's status stay as the record of who read what.
- Indexes for the retention pass, so it never scans the whole of either table.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = "'uploaded', 'validating', 'validated', 'committing', 'committed', 'failed'"


def upgrade() -> None:
    op.execute("ALTER TABLE household_import DROP CONSTRAINT status")
    op.execute(
        "ALTER TABLE household_import ADD CONSTRAINT status "
        f"CHECK (status IN ({STATUSES}, 'expired'))"
    )
    op.execute(
        "CREATE INDEX ix_household_import_expirable ON household_import (updated_at) "
        "WHERE status IN ('validated', 'failed')"
    )
    op.add_column("dci_transaction", sa.Column("results_purged_at", sa.DateTime(timezone=True)))
    op.execute(
        "CREATE INDEX ix_dci_transaction_results_kept ON dci_transaction (completed_at) "
        "WHERE action = 'search' AND results_purged_at IS NULL"
    )
    op.execute(
        "CREATE INDEX ix_dci_delivery_finished ON dci_delivery (created_at) "
        "WHERE status <> 'pending'"
    )


def downgrade() -> None:
    op.execute("DROP INDEX ix_dci_delivery_finished")
    op.execute("DROP INDEX ix_dci_transaction_results_kept")
    op.drop_column("dci_transaction", "results_purged_at")
    op.execute("DROP INDEX ix_household_import_expirable")
    op.execute("ALTER TABLE household_import DROP CONSTRAINT status")
    op.execute(f"ALTER TABLE household_import ADD CONSTRAINT status CHECK (status IN ({STATUSES}))")
