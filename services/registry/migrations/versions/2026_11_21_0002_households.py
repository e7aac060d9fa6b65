"""Households, members, IDPoor status history, change history, personal-data access log.

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

TZ = sa.DateTime(timezone=True)


def _audit() -> list[sa.Column]:
    return [
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("created_by", sa.Text, nullable=False, server_default=""),
        sa.Column("updated_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("updated_by", sa.Text, nullable=False, server_default=""),
    ]


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    op.execute("CREATE SEQUENCE household_code_seq START 1")

    op.create_table(
        "household",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("code", sa.String(11), nullable=False, unique=True),
        sa.Column("village_code", sa.String(8), nullable=False),
        sa.Column("address", sa.String(500), nullable=False, server_default=""),
        sa.Column("head_member_id", sa.Uuid),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("returned_reasons", pg.ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("verified_at", TZ),
        sa.Column("verified_by", sa.Text),
        sa.Column("poverty_level", sa.Text, nullable=False, server_default="UNASSESSED"),
        sa.Column("poverty_score", sa.Integer),
        sa.Column("poverty_method", sa.Text),
        sa.Column("poverty_round", sa.Integer),
        sa.Column("poverty_assessed_on", sa.Date),
        sa.Column("poverty_valid_until", sa.Date),
        sa.Column("equity_card_number", sa.String(40)),
        sa.Column(
            "vulnerability_categories", pg.ARRAY(sa.Text), nullable=False, server_default="{}"
        ),
        sa.Column("source_ref", sa.String(200), unique=True),
        *_audit(),
        sa.CheckConstraint(
            "status IN ('pending_verification', 'returned', 'active', 'moved', 'dissolved')",
            name="status",
        ),
        sa.CheckConstraint(
            "poverty_level IN ('POOR_1', 'POOR_2', 'NOT_POOR', 'UNASSESSED')",
            name="poverty_level",
        ),
        sa.CheckConstraint(
            "poverty_method IS NULL OR poverty_method IN ('ROUND', 'ON_DEMAND')",
            name="poverty_method",
        ),
        sa.CheckConstraint("village_code ~ '^[0-9]{8}$'", name="village_code"),
    )
    op.execute(
        "CREATE INDEX ix_household_village_code ON household (village_code text_pattern_ops)"
    )
    # "Equity cards expiring in the next 90 days in my district."
    op.execute(
        "CREATE INDEX ix_household_poor_valid_until ON household (poverty_valid_until, "
        "village_code) WHERE poverty_level IN ('POOR_1', 'POOR_2')"
    )
    op.create_index("ix_household_equity_card_number", "household", ["equity_card_number"])

    op.create_table(
        "member",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("household_id", sa.Uuid, sa.ForeignKey("household.id"), nullable=False),
        sa.Column("village_code", sa.String(8), nullable=False),
        sa.Column("family_name_km", sa.String(100), nullable=False),
        sa.Column("given_name_km", sa.String(100), nullable=False),
        sa.Column("family_name_latin", sa.String(100), nullable=False),
        sa.Column("given_name_latin", sa.String(100), nullable=False),
        sa.Column(
            "full_name_km",
            sa.Text,
            sa.Computed("family_name_km || ' ' || given_name_km", persisted=True),
        ),
        sa.Column(
            "full_name_latin",
            sa.Text,
            sa.Computed("lower(family_name_latin || ' ' || given_name_latin)", persisted=True),
        ),
        # The district, for searches that stay inside one (composite trigram indexes below).
        sa.Column("district_code", sa.Text, sa.Computed("left(village_code, 4)", persisted=True)),
        sa.Column("sex", sa.Text, nullable=False),
        sa.Column("birth_date", sa.Date, nullable=False),
        sa.Column("birth_date_estimated", sa.Boolean, nullable=False, server_default="false"),
        sa.Column("relationship", sa.Text, nullable=False),
        sa.Column("national_id", sa.String(20)),
        sa.Column("phone", sa.String(20)),
        sa.Column("disability_severity", sa.Text),
        sa.Column("disability_card_number", sa.String(40)),
        sa.Column("pregnant", sa.Boolean, nullable=False, server_default="false"),
        sa.Column("pregnancy_expected_on", sa.Date),
        sa.Column("school_enrolment", sa.Text),
        sa.Column("status", sa.Text, nullable=False, server_default="active"),
        sa.Column("status_reason", sa.Text),
        *_audit(),
        sa.CheckConstraint("sex IN ('female', 'male')", name="sex"),
        sa.CheckConstraint(
            "relationship IN ('head', 'spouse', 'child', 'parent', 'grandchild', 'sibling', "
            "'other_relative', 'non_relative')",
            name="relationship",
        ),
        sa.CheckConstraint(
            "status IN ('active', 'deceased', 'moved_out', 'removed')", name="status"
        ),
        sa.CheckConstraint(
            "disability_severity IS NULL OR disability_severity IN ('severe', 'medium', 'mild')",
            name="disability_severity",
        ),
    )
    op.create_index("ix_member_household_id", "member", ["household_id"])
    op.execute("CREATE INDEX ix_member_village_code ON member (village_code text_pattern_ops)")
    op.execute(
        "CREATE INDEX ix_member_national_id ON member (national_id) WHERE national_id IS NOT NULL"
    )
    op.execute("CREATE INDEX ix_member_phone ON member (phone) WHERE phone IS NOT NULL")
    op.create_index("ix_member_latin_name_birth", "member", ["full_name_latin", "birth_date"])
    op.execute(
        "CREATE INDEX ix_member_district_name_km_trgm ON member "
        "USING gin (district_code, full_name_km gin_trgm_ops)"
    )
    op.execute(
        "CREATE INDEX ix_member_district_name_latin_trgm ON member "
        "USING gin (district_code, full_name_latin gin_trgm_ops)"
    )

    op.create_table(
        "poverty_status_history",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("household_id", sa.Uuid, sa.ForeignKey("household.id"), nullable=False),
        sa.Column("level", sa.Text, nullable=False),
        sa.Column("score", sa.Integer),
        sa.Column("method", sa.Text),
        sa.Column("round_number", sa.Integer),
        sa.Column("assessed_on", sa.Date),
        sa.Column("valid_until", sa.Date),
        sa.Column("equity_card_number", sa.String(40)),
        sa.Column(
            "vulnerability_categories", pg.ARRAY(sa.Text), nullable=False, server_default="{}"
        ),
        sa.Column("recorded_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("recorded_by", sa.Text, nullable=False, server_default=""),
    )
    op.create_index(
        "ix_poverty_status_history_household_id", "poverty_status_history", ["household_id"]
    )

    op.create_table(
        "record_change",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("entity", sa.String(40), nullable=False),
        sa.Column("entity_id", sa.Uuid, nullable=False),
        sa.Column("household_id", sa.Uuid),
        sa.Column("village_code", sa.String(8)),
        sa.Column("action", sa.String(60), nullable=False),
        sa.Column("changes", pg.JSONB, nullable=False, server_default="{}"),
        sa.Column("actor_sub", sa.Text, nullable=False, server_default=""),
        sa.Column("actor_name", sa.Text, nullable=False, server_default=""),
        sa.Column("actor_tier", sa.Text),
        sa.Column("actor_admin_code", sa.Text, nullable=False, server_default=""),
        sa.Column("request_id", sa.Text),
        sa.Column("at", TZ, nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_record_change_entity_id", "record_change", ["entity_id", "id"])
    op.create_index("ix_record_change_household_id", "record_change", ["household_id", "id"])

    op.create_table(
        "personal_data_access",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("actor_sub", sa.Text, nullable=False),
        sa.Column("actor_name", sa.Text, nullable=False, server_default=""),
        sa.Column("actor_admin_code", sa.Text, nullable=False, server_default=""),
        sa.Column("entity", sa.String(40), nullable=False),
        sa.Column("entity_id", sa.Uuid, nullable=False),
        sa.Column("household_id", sa.Uuid),
        sa.Column("sensitive_fields", sa.Boolean, nullable=False, server_default="false"),
        sa.Column("purpose", sa.String(120), nullable=False, server_default=""),
        sa.Column("request_id", sa.Text),
        sa.Column("at", TZ, nullable=False, server_default=sa.func.now()),
    )
    op.create_index(
        "ix_personal_data_access_household_id", "personal_data_access", ["household_id", "at"]
    )


def downgrade() -> None:
    for table in ("personal_data_access", "record_change", "poverty_status_history", "member"):
        op.drop_table(table)
    op.drop_table("household")
    op.execute("DROP SEQUENCE household_code_seq")
