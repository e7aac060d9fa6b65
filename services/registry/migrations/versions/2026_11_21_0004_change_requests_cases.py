"""Change requests (maker-checker) and cases with their notes timeline.

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision: str = "0004"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "case_file",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("case_type", sa.Text, nullable=False),
        sa.Column("household_id", sa.Uuid, sa.ForeignKey("household.id"), nullable=False),
        sa.Column("member_id", sa.Uuid, sa.ForeignKey("member.id")),
        sa.Column("village_code", sa.String(8), nullable=False),
        sa.Column("assigned_admin_code", sa.String(6), nullable=False),
        sa.Column("assigned_tier", sa.Text, nullable=False),
        sa.Column("assignee_sub", sa.Text),
        sa.Column("assignee_name", sa.Text),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="open"),
        sa.Column("outcome", sa.Text),
        sa.Column("origin", sa.String(200)),
        sa.Column("description", sa.String(2000), nullable=False, server_default=""),
        sa.Column("opened_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("opened_by", sa.Text, nullable=False, server_default=""),
        sa.Column("started_at", TZ),
        sa.Column("closed_at", TZ),
        sa.Column("closed_by", sa.Text),
        sa.Column("updated_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("updated_by", sa.Text, nullable=False, server_default=""),
        sa.CheckConstraint(
            "case_type IN ('referral', 'follow_up', 'reassessment', 'protection')",
            name="case_type",
        ),
        sa.CheckConstraint("status IN ('open', 'in_progress', 'closed')", name="status"),
    )
    op.create_index("ix_case_file_household_id", "case_file", ["household_id"])
    op.execute(
        "CREATE INDEX ix_case_file_village_code ON case_file (village_code text_pattern_ops)"
    )
    # The worklist: a unit's open cases, most urgent first.
    op.create_index(
        "ix_case_file_worklist", "case_file", ["assigned_admin_code", "status", "due_on"]
    )
    op.create_index(
        "uq_case_file_origin",
        "case_file",
        ["case_type", "origin"],
        unique=True,
        postgresql_where=sa.text("origin IS NOT NULL"),
    )

    op.create_table(
        "case_note",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("case_id", sa.Uuid, sa.ForeignKey("case_file.id"), nullable=False),
        sa.Column("text", sa.String(4000), nullable=False),
        sa.Column("author_sub", sa.Text, nullable=False),
        sa.Column("author_name", sa.Text, nullable=False, server_default=""),
        sa.Column("author_admin_code", sa.Text, nullable=False, server_default=""),
        sa.Column("at", TZ, nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_case_note_case_id", "case_note", ["case_id", "id"])

    op.create_table(
        "change_request",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("change_type", sa.Text, nullable=False),
        sa.Column("household_id", sa.Uuid),
        sa.Column("village_code", sa.String(8), nullable=False),
        sa.Column("destination_village_code", sa.String(8)),
        sa.Column("payload", pg.JSONB, nullable=False, server_default="{}"),
        sa.Column("justification", sa.String(2000), nullable=False, server_default=""),
        sa.Column("status", sa.Text, nullable=False, server_default="draft"),
        sa.Column("awaiting_action", sa.Text),
        sa.Column("awaiting_unit", sa.String(6)),
        sa.Column("base_version", sa.Integer),
        sa.Column("member_id", sa.Uuid),
        sa.Column("member_base_version", sa.Integer),
        sa.Column("submitted_at", TZ),
        sa.Column("submitted_by", sa.Text),
        sa.Column("destination_accepted_at", TZ),
        sa.Column("destination_accepted_by", sa.Text),
        sa.Column("verified_districts", pg.ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("decided_at", TZ),
        sa.Column("decided_by", sa.Text),
        sa.Column("reason", sa.Text),
        sa.Column("result", pg.JSONB, nullable=False, server_default="{}"),
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("created_by", sa.Text, nullable=False, server_default=""),
        sa.Column("updated_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("updated_by", sa.Text, nullable=False, server_default=""),
        sa.CheckConstraint(
            "status IN ('draft', 'submitted', 'applied', 'rejected', 'cancelled')", name="status"
        ),
        sa.CheckConstraint("village_code ~ '^[0-9]{8}$'", name="village_code"),
    )
    op.create_index("ix_change_request_household_id", "change_request", ["household_id"])
    op.execute(
        "CREATE INDEX ix_change_request_village_code ON change_request "
        "(village_code text_pattern_ops, status)"
    )
    # "Awaiting me": the requests a unit must submit, accept or verify next.
    op.create_index(
        "ix_change_request_awaiting", "change_request", ["awaiting_action", "awaiting_unit"]
    )
    op.execute(
        "CREATE INDEX ix_change_request_destination ON change_request "
        "(destination_village_code text_pattern_ops) WHERE destination_village_code IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_table("change_request")
    op.drop_table("case_note")
    op.drop_table("case_file")
