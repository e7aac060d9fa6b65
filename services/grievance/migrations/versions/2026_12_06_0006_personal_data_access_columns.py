"""The personal-data access log takes the platform's one column set (shared.personal_data).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06

- `grievance_id` becomes `entity_id`, with `entity` = 'grievance' (its index follows, renamed).
- `household_id`: the household the grievance is linked to, filled in for existing rows from
  the grievance.
- `sensitive_fields`: whether a phone number went out; true for existing rows (every logged
  read carried the complainant's identity, phone included).
- `at` defaults to now() like the registry's. Existing rows are kept.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.alter_column("personal_data_access", "grievance_id", new_column_name="entity_id")
    op.execute(
        "ALTER INDEX ix_personal_data_access_grievance_id RENAME TO ix_personal_data_access_entity_id"
    )
    op.add_column(
        "personal_data_access",
        sa.Column("entity", sa.Text, nullable=False, server_default="grievance"),
    )
    op.alter_column("personal_data_access", "entity", server_default=None)
    op.add_column("personal_data_access", sa.Column("household_id", sa.Uuid))
    op.add_column(
        "personal_data_access",
        sa.Column("sensitive_fields", sa.Boolean, nullable=False, server_default="true"),
    )
    op.alter_column("personal_data_access", "sensitive_fields", server_default="false")
    op.alter_column("personal_data_access", "purpose", server_default="")
    op.alter_column("personal_data_access", "at", server_default=sa.func.now())
    op.execute(
        "UPDATE personal_data_access AS a SET household_id = g.household_id "
        "FROM grievance AS g WHERE g.id = a.entity_id AND g.household_id IS NOT NULL"
    )


def downgrade() -> None:
    op.alter_column("personal_data_access", "at", server_default=None)
    op.alter_column("personal_data_access", "purpose", server_default=None)
    op.drop_column("personal_data_access", "sensitive_fields")
    op.drop_column("personal_data_access", "household_id")
    op.drop_column("personal_data_access", "entity")
    op.execute(
        "ALTER INDEX ix_personal_data_access_entity_id RENAME TO ix_personal_data_access_grievance_id"
    )
    op.alter_column("personal_data_access", "entity_id", new_column_name="grievance_id")
