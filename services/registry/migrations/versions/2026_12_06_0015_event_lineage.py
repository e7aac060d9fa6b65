"""Outbox revision two: the CloudEvents `causationid` and `correlationid` of each event.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06

Nullable columns, no rewrite; rows written before have neither (their envelopes say null).
"""

from collections.abc import Sequence

from alembic import op

from shared.db.platform_tables import add_event_lineage_columns, drop_event_lineage_columns

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    add_event_lineage_columns(op)


def downgrade() -> None:
    drop_event_lineage_columns(op)
