"""DCI notifications on a subscription's frequency: deliveries due at one fire time share a
batch key and go out as one notify message.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("dci_delivery", sa.Column("batch_key", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("dci_delivery", "batch_key")
