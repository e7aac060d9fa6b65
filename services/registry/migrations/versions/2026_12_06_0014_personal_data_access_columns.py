"""The personal-data access log takes the platform's one column set (shared.personal_data).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06

- `actor_tier`: the reader's tier at the time (null for rows written before).
- `entity` and `purpose` become `text` like every other service's (no rewrite: varchar to text
  is binary-coercible). Existing rows are kept as they are.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("personal_data_access", sa.Column("actor_tier", sa.Text))
    op.alter_column("personal_data_access", "entity", type_=sa.Text)
    op.alter_column("personal_data_access", "purpose", type_=sa.Text)


def downgrade() -> None:
    op.alter_column("personal_data_access", "purpose", type_=sa.String(120))
    op.alter_column("personal_data_access", "entity", type_=sa.String(40))
    op.drop_column("personal_data_access", "actor_tier")
