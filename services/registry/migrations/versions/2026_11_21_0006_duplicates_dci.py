"""Duplicate candidates and their review; the DCI social-registry API's transactions,
subscriptions and outbound deliveries (callbacks and notifications).

Revision ID: 0006
Revises: 0002
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision: str = "0006"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "duplicate_candidate",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        # household_id is the newer household (the one being registered or imported);
        # other_household_id the one already in the registry it resembles.
        sa.Column("household_id", sa.Uuid, sa.ForeignKey("household.id"), nullable=False),
        sa.Column("other_household_id", sa.Uuid, sa.ForeignKey("household.id"), nullable=False),
        sa.Column("village_code", sa.String(8), nullable=False),
        sa.Column("other_village_code", sa.String(8), nullable=False),
        sa.Column("member_ids", pg.ARRAY(sa.Uuid), nullable=False, server_default="{}"),
        sa.Column("reasons", pg.ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("matches", pg.JSONB, nullable=False, server_default="[]"),
        sa.Column("khmer_name_score", sa.Float),
        sa.Column("status", sa.Text, nullable=False, server_default="suspected"),
        sa.Column("flagged_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("flagged_by", sa.Text, nullable=False, server_default=""),
        sa.Column("reviewer", sa.Text),
        sa.Column("decided_at", TZ),
        sa.Column("decision_reason", sa.Text),
        sa.Column("surviving_household_id", sa.Uuid),
        sa.Column("merge_summary", pg.JSONB),
        sa.CheckConstraint(
            "status IN ('suspected', 'confirmed', 'dismissed')", name="duplicate_status"
        ),
        sa.CheckConstraint("household_id <> other_household_id", name="duplicate_distinct"),
    )
    # One candidate per pair of households, whichever of the two was flagged first.
    op.execute(
        "CREATE UNIQUE INDEX uq_duplicate_candidate_pair ON duplicate_candidate "
        "(LEAST(household_id, other_household_id), GREATEST(household_id, other_household_id))"
    )
    op.execute(
        "CREATE INDEX ix_duplicate_candidate_village ON duplicate_candidate "
        "(village_code text_pattern_ops)"
    )
    op.execute(
        "CREATE INDEX ix_duplicate_candidate_other_village ON duplicate_candidate "
        "(other_village_code text_pattern_ops)"
    )
    op.create_index("ix_duplicate_candidate_status", "duplicate_candidate", ["status", "id"])
    op.create_index(
        "ix_duplicate_candidate_other_household", "duplicate_candidate", ["other_household_id"]
    )
    op.create_index("ix_duplicate_candidate_household", "duplicate_candidate", ["household_id"])
    # Khmer-name likeness is looked for among people of the same district, sex and birth year
    # +-1: this range is a few thousand rows even in a large district, where a trigram index
    # scan for a common family name reads posting lists of tens of thousands.
    op.execute(
        "CREATE INDEX ix_member_duplicate_band ON member (district_code, sex, birth_date) "
        "INCLUDE (household_id, full_name_km) WHERE status = 'active'"
    )

    op.create_table(
        "dci_transaction",
        sa.Column("id", sa.Uuid, primary_key=True),  # our correlation_id
        sa.Column("client_sub", sa.Text, nullable=False),
        sa.Column("sender_id", sa.Text, nullable=False),
        sa.Column("message_id", sa.Text, nullable=False),
        sa.Column("transaction_id", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("mode", sa.Text, nullable=False),  # sync | async
        sa.Column("status", sa.Text, nullable=False),  # rcvd | pdng | succ | rjct
        sa.Column("sender_uri", sa.Text),
        sa.Column("request", pg.JSONB, nullable=False),
        sa.Column("response", pg.JSONB),
        sa.Column("reference_ids", pg.ARRAY(sa.Text), nullable=False, server_default="{}"),
        # The areas the client was limited to when it asked ({} = nationwide).
        sa.Column("area_codes", pg.ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("received_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("completed_at", TZ),
        sa.Column("claimed_until", TZ),
        sa.CheckConstraint("status IN ('rcvd', 'pdng', 'succ', 'rjct')", name="dci_status"),
        sa.UniqueConstraint("client_sub", "message_id", name="uq_dci_transaction_message"),
    )
    op.create_index(
        "ix_dci_transaction_client_txn", "dci_transaction", ["client_sub", "transaction_id"]
    )
    op.execute(
        "CREATE INDEX ix_dci_transaction_pending ON dci_transaction (received_at) "
        "WHERE status = 'pdng'"
    )

    op.create_table(
        "dci_subscription",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("code", sa.Text, nullable=False, unique=True),
        sa.Column("client_sub", sa.Text, nullable=False),
        sa.Column("sender_id", sa.Text, nullable=False),
        sa.Column("notify_uri", sa.Text, nullable=False),
        sa.Column("reference_id", sa.Text, nullable=False),
        sa.Column("transaction_id", sa.Text, nullable=False),
        sa.Column("reg_event_type", sa.Text, nullable=False),
        sa.Column("filter_type", sa.Text),
        sa.Column("filter", pg.JSONB),
        sa.Column("notify_record_type", sa.Text, nullable=False),
        sa.Column("frequency", pg.JSONB),
        sa.Column("area_codes", pg.ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("status", sa.Text, nullable=False, server_default="subscribe"),
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("unsubscribed_at", TZ),
        sa.CheckConstraint("status IN ('subscribe', 'unsubscribe')", name="dci_sub_status"),
    )
    op.create_index("ix_dci_subscription_active", "dci_subscription", ["reg_event_type", "status"])
    op.create_index("ix_dci_subscription_client", "dci_subscription", ["client_sub", "id"])

    op.create_table(
        "dci_delivery",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),  # on-search | notify
        sa.Column("transaction_id", sa.Uuid, sa.ForeignKey("dci_transaction.id")),
        sa.Column("subscription_id", sa.Uuid, sa.ForeignKey("dci_subscription.id")),
        sa.Column("event_id", sa.Text),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("payload", pg.JSONB, nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("last_error", sa.Text),
        sa.Column("last_status_code", sa.Integer),
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("delivered_at", TZ),
        sa.CheckConstraint(
            "status IN ('pending', 'delivered', 'failed')", name="dci_delivery_status"
        ),
        sa.UniqueConstraint("subscription_id", "event_id", name="uq_dci_delivery_event"),
    )
    op.execute(
        "CREATE INDEX ix_dci_delivery_due ON dci_delivery (next_attempt_at) "
        "WHERE status = 'pending'"
    )
    op.create_index("ix_dci_delivery_transaction", "dci_delivery", ["transaction_id"])


def downgrade() -> None:
    op.execute("DROP INDEX ix_member_duplicate_band")
    for table in ("dci_delivery", "dci_subscription", "dci_transaction", "duplicate_candidate"):
        op.drop_table(table)
