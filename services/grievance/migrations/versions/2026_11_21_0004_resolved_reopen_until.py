"""The SLA scheduler's second read path: resolved grievances by the end of their reopening
period, which the pass closes automatically (only resolved ones are in the index).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_grievance_resolved_reopen_until",
        "grievance",
        ["reopen_until"],
        postgresql_where=sa.text("status = 'resolved'"),
    )


def downgrade() -> None:
    op.drop_index("ix_grievance_resolved_reopen_until", table_name="grievance")
