"""Grievances, their timelines, the household read model, failed tracking-code lookups.

Code lists are text columns with CHECK constraints (adding a code is a one-line migration,
unlike a PostgreSQL enum inside a transaction). The SLA scheduler's only read path is the
partial index on `due_at`; the worklists use a partial index of open grievances per unit.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CATEGORIES = [
    "exclusion_error", "inclusion_error", "payment_problem", "card_request_idpoor",
    "card_request_disability", "card_request_risk", "data_correction",
    "service_quality_commune", "service_quality_health_centre", "service_quality_school",
    "staff_conduct", "fraud_corruption", "abuse", "information_request", "suggestion", "other",
]  # fmt: skip
CHANNELS = [
    "commune_office", "one_window_service_office", "citizen_office", "hotline",
    "caf_door_to_door", "scorecard_meeting", "public_forum", "web", "mobile_app",
]  # fmt: skip
STATUSES = [
    "submitted",
    "acknowledged",
    "in_progress",
    "resolved",
    "closed",
    "rejected",
    "reopened",
]
OPEN_STATUSES = ["submitted", "reopened", "acknowledged", "in_progress"]
DECISIONS = ["upheld", "partly_upheld", "not_upheld", "referred"]
TIERS = ["national", "cp", "dmk", "cs"]
SEXES = ["female", "male", "other"]
AGE_GROUPS = ["under_18", "18_35", "36_59", "60_plus"]
TIMELINE_KINDS = [
    "submitted", "acknowledged", "in_progress", "escalated", "sla_breached", "resolved",
    "closed", "rejected", "reopened", "rated", "public_response", "internal_note",
]  # fmt: skip


def _in(column: str, values: list[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _tz(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "grievance",
        sa.Column("id", pg.UUID(as_uuid=True), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("tracking_code", sa.Text, nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("category", sa.Text, nullable=False),
        sa.Column("sensitive", sa.Boolean, nullable=False),
        sa.Column("programme_code", sa.Text),
        sa.Column("location_code", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("household_id", pg.UUID(as_uuid=True)),
        sa.Column("member_id", pg.UUID(as_uuid=True)),
        sa.Column("anonymous", sa.Boolean, nullable=False),
        sa.Column("complainant_name", sa.Text),
        sa.Column("complainant_phone", sa.Text),
        sa.Column("complainant_sex", sa.Text),
        sa.Column("complainant_age_group", sa.Text),
        sa.Column(
            "complainant_vulnerabilities",
            pg.ARRAY(sa.Text),
            nullable=False,
            server_default="{}",
        ),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("decision", sa.Text),
        sa.Column("resolution_summary", sa.Text),
        sa.Column("rejection_reason", sa.Text),
        sa.Column("handling_tier", sa.Text, nullable=False),
        sa.Column("handling_admin_code", sa.Text, nullable=False),
        _tz("tier_entered_at", nullable=False),
        sa.Column("due_kind", sa.Text),
        _tz("due_at"),
        sa.Column("escalation_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("sla_breach_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("reopen_count", sa.Integer, nullable=False, server_default="0"),
        _tz("reopen_until"),
        sa.Column("rating", sa.SmallInteger),
        sa.Column("submitted_by", sa.Text),
        _tz("submitted_at", nullable=False),
        _tz("acknowledged_at"),
        _tz("resolved_at"),
        _tz("closed_at"),
        _tz("rejected_at"),
        _tz("rated_at"),
        _tz("updated_at", nullable=False),
        sa.CheckConstraint(_in("category", CATEGORIES), name="category"),
        sa.CheckConstraint(_in("channel", CHANNELS), name="channel"),
        sa.CheckConstraint(_in("status", STATUSES), name="status"),
        sa.CheckConstraint(f"decision IS NULL OR {_in('decision', DECISIONS)}", name="decision"),
        sa.CheckConstraint(_in("handling_tier", TIERS), name="handling_tier"),
        sa.CheckConstraint(
            "location_code ~ '^[0-9]{6}([0-9]{2})?$'", name="location_is_commune_or_village"
        ),
        sa.CheckConstraint(
            "starts_with(location_code, handling_admin_code)", name="handled_above_location"
        ),
        sa.CheckConstraint(
            f"complainant_sex IS NULL OR {_in('complainant_sex', SEXES)}", name="complainant_sex"
        ),
        sa.CheckConstraint(
            f"complainant_age_group IS NULL OR {_in('complainant_age_group', AGE_GROUPS)}",
            name="complainant_age_group",
        ),
        sa.CheckConstraint(
            "NOT anonymous OR (complainant_name IS NULL AND complainant_phone IS NULL)",
            name="anonymous_has_no_identity",
        ),
        sa.CheckConstraint(
            "due_kind IS NULL OR due_kind IN ('acknowledge', 'resolve')", name="due_kind"
        ),
        sa.CheckConstraint("(due_at IS NULL) = (due_kind IS NULL)", name="due_pair"),
        sa.CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating"),
        sa.CheckConstraint(
            "status <> 'rejected' OR rejection_reason IS NOT NULL", name="rejected_has_reason"
        ),
        sa.CheckConstraint(
            "status NOT IN ('resolved', 'closed') OR decision IS NOT NULL",
            name="resolved_has_decision",
        ),
    )
    op.create_index("uq_grievance_tracking_code", "grievance", ["tracking_code"], unique=True)
    op.create_index(
        "ix_grievance_location_code",
        "grievance",
        ["location_code"],
        postgresql_ops={"location_code": "text_pattern_ops"},
    )
    # The SLA scheduler's scan: only grievances with a deadline are in it.
    op.create_index(
        "ix_grievance_due_at",
        "grievance",
        ["due_at"],
        postgresql_where=sa.text("due_at IS NOT NULL"),
    )
    # Worklists: open grievances of one unit.
    op.create_index(
        "ix_grievance_open_by_unit",
        "grievance",
        ["handling_admin_code", "submitted_at", "id"],
        postgresql_where=sa.text(_in("status", OPEN_STATUSES)),
    )
    op.create_index("ix_grievance_submitted_at", "grievance", ["submitted_at", "id"])
    op.create_index(
        "ix_grievance_household_id",
        "grievance",
        ["household_id"],
        postgresql_where=sa.text("household_id IS NOT NULL"),
    )

    op.create_table(
        "grievance_timeline",
        sa.Column("seq", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column(
            "grievance_id",
            pg.UUID(as_uuid=True),
            sa.ForeignKey("grievance.id", ondelete="CASCADE"),
            nullable=False,
        ),
        _tz("occurred_at", nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("public", sa.Boolean, nullable=False),
        sa.Column("text", sa.Text),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("details", pg.JSONB, nullable=False, server_default="{}"),
        sa.CheckConstraint(_in("kind", TIMELINE_KINDS), name="kind"),
        sa.CheckConstraint("kind <> 'internal_note' OR NOT public", name="notes_are_internal"),
    )
    op.create_index(
        "ix_grievance_timeline_grievance_id", "grievance_timeline", ["grievance_id", "seq"]
    )

    op.create_table(
        "household_location",
        sa.Column("household_id", pg.UUID(as_uuid=True), primary_key=True),
        sa.Column("household_code", sa.Text, nullable=False),
        sa.Column("village_code", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("record_version", sa.Integer, nullable=False),
        _tz("updated_at", nullable=False),
    )

    op.create_index(
        "ix_household_location_household_code", "household_location", ["household_code"]
    )

    op.create_table(
        "public_lookup_failure",
        sa.Column("client_key", sa.Text, primary_key=True),
        sa.Column("window_start", sa.DateTime(timezone=True), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("public_lookup_failure")
    op.drop_table("household_location")
    op.drop_table("grievance_timeline")
    op.drop_table("grievance")
