"""The member read model: which household each registry member belongs to.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06

Filled by the registry's member events (and the members a household registration
announces); a grievance naming a member is checked against it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "household_member",
        sa.Column("member_id", pg.UUID(as_uuid=True), primary_key=True),
        sa.Column("household_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("record_version", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('active', 'removed')", name="member_status"),
    )
    op.create_index("ix_household_member_household_id", "household_member", ["household_id"])


def downgrade() -> None:
    op.drop_table("household_member")
