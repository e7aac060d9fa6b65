"""A grievance keeps a household code the registry had not announced yet, to be linked later.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("grievance", sa.Column("claimed_household_code", sa.Text, nullable=True))
    op.create_index(
        "ix_grievance_claimed_household_code",
        "grievance",
        ["claimed_household_code"],
        postgresql_where=sa.text("claimed_household_code IS NOT NULL AND household_id IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_grievance_claimed_household_code", table_name="grievance")
    op.drop_column("grievance", "claimed_household_code")
