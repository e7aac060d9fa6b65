"""Programmes (with the seed programmes), enrolments, benefit records; indexes for the
verification query.

The seed programmes' benefit amounts are ILLUSTRATIVE riel figures of the right order of
magnitude, not the official rates: the national tier sets the real ones through the API
(PATCH /programmes/{code}).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)
LIVE = "status IN ('proposed', 'enrolled', 'suspended')"

POOR = {"kind": "poverty_level", "id": "idpoor_poor", "levels": ["POOR_1", "POOR_2"]}
MOSVY = "Ministry of Social Affairs, Veterans and Youth Rehabilitation (MoSVY)"

SEED_PROGRAMMES = [
    {
        "code": "FAMILY_PACKAGE",
        "name_km": "កញ្ចប់គ្រួសារ",
        "name_en": "Family Package",
        "description_en": (
            "Since 2024, one household cash transfer merging the cash transfer for pregnant "
            "women and children under 2, scholarships, and disability and elderly support, "
            "for IDPoor households with at least one such member."
        ),
        "owner_ministry": MOSVY,
        "target": "household",
        "eligibility": {
            "kind": "all",
            "rules": [
                POOR,
                {
                    "kind": "any",
                    "id": "vulnerable_member",
                    "rules": [
                        {
                            "kind": "has_member",
                            "id": "pregnant_member",
                            "where": {"kind": "pregnant"},
                        },
                        {
                            "kind": "has_member",
                            "id": "child_under_2",
                            "where": {"kind": "age", "unit": "months", "max": 23},
                        },
                        {
                            "kind": "has_member",
                            "id": "disabled_member",
                            "where": {"kind": "disability", "min_severity": "mild"},
                        },
                        {
                            "kind": "has_member",
                            "id": "elderly_member",
                            "where": {"kind": "age", "unit": "years", "min": 60},
                        },
                        {
                            "kind": "has_member",
                            "id": "school_age_child",
                            "where": {"kind": "age", "unit": "years", "min": 6, "max": 17},
                        },
                    ],
                },
            ],
        },
        "benefit_amount_khr": 80_000,
        "benefit_in_kind_item": None,
        "benefit_period": "monthly",
    },
    {
        "code": "DISABILITY_ALLOWANCE",
        "name_km": "ប្រាក់ឧបត្ថម្ភសម្រាប់ជនមានពិការភាព",
        "name_en": "Disability allowance",
        "description_en": "Monthly allowance for poor people with a severe or medium disability.",
        "owner_ministry": MOSVY,
        "target": "individual",
        "eligibility": {
            "kind": "all",
            "rules": [
                {
                    "kind": "disability",
                    "id": "disability_medium_or_severe",
                    "min_severity": "medium",
                },
                POOR,
            ],
        },
        "benefit_amount_khr": 40_000,
        "benefit_in_kind_item": None,
        "benefit_period": "monthly",
    },
    {
        "code": "PRIMARY_SCHOLARSHIP",
        "name_km": "អាហារូបករណ៍សិស្សបឋមសិក្សា",
        "name_en": "Primary-school scholarship",
        "description_en": "Yearly scholarship for poor children aged 6-14 enrolled in primary school.",
        "owner_ministry": "Ministry of Education, Youth and Sport (MoEYS)",
        "target": "individual",
        "eligibility": {
            "kind": "all",
            "rules": [
                {"kind": "age", "id": "aged_6_to_14", "unit": "years", "min": 6, "max": 14},
                {"kind": "school_enrolment", "id": "in_primary_school", "levels": ["primary"]},
                POOR,
            ],
        },
        "benefit_amount_khr": 240_000,
        "benefit_in_kind_item": None,
        "benefit_period": "yearly",
    },
    {
        "code": "FOOD_AID",
        "name_km": "ជំនួយស្បៀងអាហារ",
        "name_en": "Food aid",
        "description_en": "Quarterly rice ration for very poor (IDPoor level 1) households.",
        "owner_ministry": MOSVY,
        "target": "household",
        "eligibility": {"kind": "poverty_level", "id": "idpoor_very_poor", "levels": ["POOR_1"]},
        "benefit_amount_khr": None,
        "benefit_in_kind_item": "Rice, 50 kg",
        "benefit_period": "quarterly",
    },
    {
        "code": "HEALTH_EQUITY_FUND",
        "name_km": "មូលនិធិសមធម៌សុខាភិបាល",
        "name_en": "Health equity fund",
        "description_en": (
            "Free care at public health facilities (the fund pays the fees) for IDPoor "
            "households and households found vulnerable by on-demand identification."
        ),
        "owner_ministry": "Ministry of Health (MoH)",
        "target": "household",
        "eligibility": {
            "kind": "any",
            "rules": [
                POOR,
                {
                    "kind": "vulnerability",
                    "id": "on_demand_vulnerable",
                    "categories": [
                        "disability",
                        "elderly",
                        "under_18",
                        "under_2",
                        "female_headed",
                    ],
                },
            ],
        },
        "benefit_amount_khr": None,
        "benefit_in_kind_item": "Fee waiver at public health facilities",
        "benefit_period": "yearly",
    },
]


def _audit() -> list[sa.Column]:
    return [
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("created_by", sa.Text, nullable=False, server_default=""),
        sa.Column("updated_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("updated_by", sa.Text, nullable=False, server_default=""),
    ]


def upgrade() -> None:
    programme = op.create_table(
        "programme",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("code", sa.String(40), nullable=False, unique=True),
        sa.Column("name_km", sa.String(200), nullable=False),
        sa.Column("name_en", sa.String(200), nullable=False),
        sa.Column("description_en", sa.String(2000), nullable=False, server_default=""),
        sa.Column("owner_ministry", sa.String(200), nullable=False),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("eligibility", pg.JSONB, nullable=False),
        sa.Column("benefit_amount_khr", sa.BigInteger),
        sa.Column("benefit_in_kind_item", sa.String(200)),
        sa.Column("benefit_period", sa.Text, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default="true"),
        *_audit(),
        sa.CheckConstraint("target IN ('household', 'individual')", name="target"),
        sa.CheckConstraint(
            "benefit_period IN ('monthly', 'quarterly', 'yearly', 'one_off')",
            name="benefit_period",
        ),
        sa.CheckConstraint(
            "(benefit_amount_khr IS NULL) <> (benefit_in_kind_item IS NULL)", name="benefit_kind"
        ),
        sa.CheckConstraint("benefit_amount_khr IS NULL OR benefit_amount_khr > 0", name="amount"),
    )
    op.bulk_insert(
        programme,
        [
            {
                **seed,
                "id": uuid.uuid5(uuid.NAMESPACE_URL, f"urn:kh-sp:programme:{seed['code']}"),
                "version": 1,
                "active": True,
                "created_by": "migration:0003",
                "updated_by": "migration:0003",
            }
            for seed in SEED_PROGRAMMES
        ],
    )

    op.create_table(
        "enrolment",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("programme_code", sa.String(40), sa.ForeignKey("programme.code"), nullable=False),
        sa.Column("household_id", sa.Uuid, sa.ForeignKey("household.id"), nullable=False),
        sa.Column("member_id", sa.Uuid, sa.ForeignKey("member.id")),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("status_reason", sa.String(500)),
        sa.Column("eligibility", pg.JSONB, nullable=False, server_default="{}"),
        sa.Column("failing_rules", pg.ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("proposed_by", sa.Text, nullable=False, server_default=""),
        sa.Column("decided_at", TZ),
        sa.Column("decided_by", sa.Text),
        sa.Column("enrolled_on", sa.Date),
        sa.Column("exited_on", sa.Date),
        *_audit(),
        sa.CheckConstraint(
            "status IN ('proposed', 'enrolled', 'suspended', 'exited', 'rejected')", name="status"
        ),
    )
    # One live enrolment per programme and household (member_id NULL) or member.
    op.execute(
        "CREATE UNIQUE INDEX ux_enrolment_live ON enrolment "
        f"(programme_code, household_id, member_id) NULLS NOT DISTINCT WHERE {LIVE}"
    )
    # A household's enrolments (verification, the household's page).
    op.create_index("ix_enrolment_household_id", "enrolment", ["household_id", "programme_code"])
    op.execute(
        "CREATE INDEX ix_enrolment_member_id ON enrolment (member_id) WHERE member_id IS NOT NULL"
    )
    # Lists: newest first within a programme and status, and overall.
    op.create_index(
        "ix_enrolment_programme_status", "enrolment", ["programme_code", "status", "created_at"]
    )
    op.create_index("ix_enrolment_created_at", "enrolment", ["created_at", "id"])

    op.create_table(
        "benefit_record",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("enrolment_id", sa.Uuid, sa.ForeignKey("enrolment.id"), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("amount_khr", sa.BigInteger),
        sa.Column("in_kind_item", sa.String(200)),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("delivered_on", sa.Date),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("status_reason", sa.String(500)),
        *_audit(),
        sa.UniqueConstraint("enrolment_id", "period", name="enrolment_period"),
        sa.CheckConstraint("status IN ('scheduled', 'paid', 'failed', 'returned')", name="status"),
        sa.CheckConstraint(
            "channel IN ('cash_wing', 'mobile_money', 'bank', 'cash_in_hand', 'in_kind')",
            name="channel",
        ),
        sa.CheckConstraint("(amount_khr IS NULL) <> (in_kind_item IS NULL)", name="benefit_kind"),
        sa.CheckConstraint("amount_khr IS NULL OR amount_khr > 0", name="amount"),
    )
    # The last benefit of an enrolment, and the last one paid: one backward index probe each.
    op.create_index(
        "ix_benefit_record_last", "benefit_record", ["enrolment_id", sa.text("period_start DESC")]
    )
    op.execute(
        "CREATE INDEX ix_benefit_record_last_paid ON benefit_record "
        "(enrolment_id, period_start DESC) WHERE status = 'paid'"
    )

    # Verification by Khmer names + birth date (the Latin one exists since 0002).
    op.create_index("ix_member_km_name_birth", "member", ["full_name_km", "birth_date"])


def downgrade() -> None:
    op.drop_index("ix_member_km_name_birth", table_name="member")
    op.drop_table("benefit_record")
    op.drop_table("enrolment")
    op.drop_table("programme")
