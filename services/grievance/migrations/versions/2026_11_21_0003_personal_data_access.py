"""Who read which complainant's identity, and when (architecture: every read of a personal
record by a person is audit-logged).

One row per grievance whose complainant identity (name, phone, sex, age group,
vulnerabilities) went out in a response to a person: the handling unit's handlers reading
one grievance, a list or a worklist, or the grievance returned after a change. Rows are
only ever added; the index answers "who saw this complainant" per grievance.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "personal_data_access",
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column("grievance_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("actor_sub", sa.Text, nullable=False),
        sa.Column("actor_name", sa.Text, nullable=False, server_default=""),
        sa.Column("actor_tier", sa.Text),
        sa.Column("actor_admin_code", sa.Text, nullable=False, server_default=""),
        sa.Column("purpose", sa.Text, nullable=False),
        sa.Column("request_id", sa.Text),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_personal_data_access_grievance_id", "personal_data_access", ["grievance_id", "at"]
    )


def downgrade() -> None:
    op.drop_table("personal_data_access")
