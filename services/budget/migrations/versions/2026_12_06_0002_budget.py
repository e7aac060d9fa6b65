"""Budget: fiscal years, envelopes, formulas, the registry read model, datasets, allocation
runs and their units, releases, expenditures, support requests.

Amounts are whole riel in bigint with CHECK (>= 0). Code lists are text columns with CHECK
constraints. Jurisdiction columns carry `text_pattern_ops` indexes (prefix matches).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LINES = [
    "social_assistance", "social_services", "capacity_building", "incentives", "equipment",
    "outreach_materials", "isaf_activities",
]  # fmt: skip
SUPPORT_TYPES = [
    "training_workshop", "incentive", "budget", "dissemination_material", "equipment",
    "transport", "internet", "staff",
]  # fmt: skip
SUPPORT_STATUSES = [
    "submitted", "under_review", "approved", "partly_approved", "rejected", "fulfilled",
]  # fmt: skip
RUN_STATUSES = ["draft", "proposed", "approved", "published"]
TIERS = ["national", "cp", "dmk", "cs"]
LEVELS = ["province", "district", "commune", "village"]


def _in(column: str, values: list[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _tz(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _text(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.Text, nullable=nullable)


def _riel(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.BigInteger, sa.CheckConstraint(f"{name} >= 0"), nullable=nullable)


def _uuid(name: str, **kwargs) -> sa.Column:
    return sa.Column(name, pg.UUID(as_uuid=True), **kwargs)


def _location_index(table: str, column: str) -> None:
    op.create_index(
        f"ix_{table}_{column}", table, [column], postgresql_ops={column: "text_pattern_ops"}
    )


def upgrade() -> None:
    op.create_table(
        "fiscal_year",
        sa.Column("year", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("starts_on", sa.Date, nullable=False),
        sa.Column("ends_on", sa.Date, nullable=False),
        _text("opened_by"),
        _tz("opened_at", nullable=False),
        sa.CheckConstraint("year BETWEEN 2000 AND 2100", name="year_range"),
    )
    op.create_table(
        "envelope",
        _uuid("id", primary_key=True),
        sa.Column("fiscal_year", sa.Integer, sa.ForeignKey("fiscal_year.year"), nullable=False),
        _text("line_code"),
        _riel("amount_riel"),
        _text("set_by"),
        _tz("set_at", nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.UniqueConstraint("fiscal_year", "line_code"),
        sa.CheckConstraint(_in("line_code", LINES), name="line_code"),
    )
    op.create_table(
        "formula",
        _text("code", nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        _text("name"),
        _text("description"),
        sa.Column("definition", pg.JSONB, nullable=False),
        _text("created_by"),
        _tz("created_at", nullable=False),
        sa.PrimaryKeyConstraint("code", "version"),
    )
    op.create_table(
        "household_figure",
        _uuid("household_id", primary_key=True),
        _text("village_code"),
        _text("status"),
        sa.Column("record_version", sa.Integer, nullable=False),
        _text("poverty_level"),
        sa.Column("poverty_version", sa.Integer, nullable=False),
        _tz("updated_at", nullable=False),
    )
    _location_index("household_figure", "village_code")
    op.create_table(
        "member_figure",
        _uuid("member_id", primary_key=True),
        _uuid("household_id", nullable=False),
        sa.Column("birth_year", sa.Integer),
        _text("status"),
        sa.Column("record_version", sa.Integer, nullable=False),
        _tz("updated_at", nullable=False),
    )
    op.create_index("ix_member_figure_household_id", "member_figure", ["household_id"])
    op.create_table(
        "dataset",
        _uuid("id", primary_key=True),
        _text("code"),
        _text("name"),
        _text("source"),
        sa.Column("reference_date", sa.Date, nullable=False),
        _text("level"),
        _text("area"),
        sa.Column("row_count", sa.Integer, nullable=False),
        _text("uploaded_by"),
        _tz("uploaded_at", nullable=False),
        _tz("used_at"),
        sa.CheckConstraint(_in("level", LEVELS), name="level"),
    )
    op.create_index("ix_dataset_code", "dataset", ["code"])
    op.create_table(
        "dataset_value",
        _uuid("dataset_id", nullable=False),
        _text("admin_code"),
        _riel("value"),
        sa.PrimaryKeyConstraint("dataset_id", "admin_code"),
        sa.ForeignKeyConstraint(["dataset_id"], ["dataset.id"], ondelete="CASCADE"),
    )
    op.create_table(
        "allocation_run",
        _uuid("id", primary_key=True),
        sa.Column("fiscal_year", sa.Integer, sa.ForeignKey("fiscal_year.year"), nullable=False),
        _text("line_code"),
        _text("allocating_tier"),
        _text("allocating_admin_code"),
        _text("unit_level"),
        _uuid("parent_run_id", nullable=True),
        _text("formula_code"),
        sa.Column("formula_version", sa.Integer, nullable=False),
        sa.Column("definition", pg.JSONB, nullable=False),
        _riel("envelope_riel"),
        sa.Column("inputs", pg.JSONB, nullable=False),
        _text("status"),
        sa.Column("compute_ms", sa.Float, nullable=False),
        _text("created_by"),
        _tz("created_at", nullable=False),
        _text("proposed_by", nullable=True),
        _tz("proposed_at"),
        _text("approved_by", nullable=True),
        _tz("approved_at"),
        _text("published_by", nullable=True),
        _tz("published_at"),
        sa.Column("version", sa.Integer, nullable=False),
        sa.CheckConstraint(_in("status", RUN_STATUSES), name="status"),
        sa.CheckConstraint(_in("allocating_tier", TIERS), name="allocating_tier"),
        sa.CheckConstraint(_in("line_code", LINES), name="line_code"),
    )
    _location_index("allocation_run", "allocating_admin_code")
    op.create_index(
        "uq_allocation_run_published",
        "allocation_run",
        ["fiscal_year", "line_code", "allocating_admin_code"],
        unique=True,
        postgresql_where=sa.text("status = 'published'"),
    )
    op.create_table(
        "allocation_unit",
        _uuid("run_id", nullable=False),
        _text("admin_code"),
        _riel("amount_riel"),
        _text("exact"),
        sa.Column("contributions", pg.JSONB, nullable=False),
        _text("adjustment"),
        sa.PrimaryKeyConstraint("run_id", "admin_code"),
        sa.ForeignKeyConstraint(["run_id"], ["allocation_run.id"], ondelete="CASCADE"),
    )
    _location_index("allocation_unit", "admin_code")
    op.create_table(
        "release",
        _uuid("id", primary_key=True),
        _uuid("run_id", nullable=False),
        sa.Column("fiscal_year", sa.Integer, nullable=False),
        _text("line_code"),
        _text("admin_code"),
        _text("allocating_admin_code"),
        sa.Column("tranche", sa.Integer, sa.CheckConstraint("tranche >= 1"), nullable=False),
        _riel("amount_riel"),
        sa.Column("planned_on", sa.Date, nullable=False),
        sa.Column("released_on", sa.Date),
        _text("planned_by"),
        _tz("planned_at", nullable=False),
        _text("recorded_by", nullable=True),
        _tz("recorded_at"),
        sa.Column("version", sa.Integer, nullable=False),
        sa.UniqueConstraint("run_id", "admin_code", "tranche"),
        sa.ForeignKeyConstraint(["run_id"], ["allocation_run.id"]),
    )
    _location_index("release", "admin_code")
    op.create_table(
        "expenditure",
        _uuid("id", primary_key=True),
        sa.Column("fiscal_year", sa.Integer, nullable=False),
        _text("line_code"),
        _text("admin_code"),
        _riel("amount_riel"),
        sa.Column("spent_on", sa.Date, nullable=False),
        _text("description"),
        _text("recorded_by"),
        _tz("recorded_at", nullable=False),
    )
    _location_index("expenditure", "admin_code")
    op.create_table(
        "support_request",
        _uuid("id", primary_key=True),
        sa.Column("fiscal_year", sa.Integer, nullable=False),
        _text("requesting_tier"),
        _text("requesting_admin_code"),
        _text("addressed_tier"),
        _text("addressed_admin_code"),
        _text("request_type"),
        _text("description"),
        _riel("amount_riel"),
        _riel("approved_amount_riel", nullable=True),
        _text("status"),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        _uuid("isaf_action_id", nullable=True, unique=True),
        _text("submitted_by"),
        _tz("submitted_at", nullable=False),
        _tz("reviewed_at"),
        _text("decided_by", nullable=True),
        _tz("decided_at"),
        _tz("fulfilled_at"),
        sa.Column("version", sa.Integer, nullable=False),
        sa.CheckConstraint(_in("status", SUPPORT_STATUSES), name="status"),
        sa.CheckConstraint(_in("request_type", SUPPORT_TYPES), name="request_type"),
    )
    _location_index("support_request", "requesting_admin_code")


def downgrade() -> None:
    for table in (
        "support_request", "expenditure", "release", "allocation_unit", "allocation_run",
        "dataset_value", "dataset", "member_figure", "household_figure", "formula", "envelope",
        "fiscal_year",
    ):  # fmt: skip
        op.drop_table(table)
