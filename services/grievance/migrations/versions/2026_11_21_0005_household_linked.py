"""A handler may link a grievance to a registry household after intake: a timeline kind for it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = (
    "'submitted', 'acknowledged', 'in_progress', 'escalated', 'sla_breached', 'resolved', "
    "'closed', 'rejected', 'reopened', 'rated', 'public_response', 'internal_note'"
)


def _kinds(extra: str = "") -> None:
    op.execute("ALTER TABLE grievance_timeline DROP CONSTRAINT kind")
    op.execute(
        f"ALTER TABLE grievance_timeline ADD CONSTRAINT kind CHECK (kind IN ({KINDS}{extra}))"
    )


def upgrade() -> None:
    _kinds(", 'household_linked'")


def downgrade() -> None:
    op.execute("DELETE FROM grievance_timeline WHERE kind = 'household_linked'")
    _kinds()
