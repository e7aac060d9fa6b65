"""Join the registry's per-area branches (programmes and enrolments, change requests and
cases, imports, duplicates and DCI, report indexes, member search index) into one head, so
the next migration has a single parent.

Revision ID: 0010
Revises: 0003, 0004, 0005, 0006, 0008, 0009
Create Date: 2026-11-21
"""

from collections.abc import Sequence

revision: str = "0010"
down_revision: str | Sequence[str] | None = ("0003", "0004", "0005", "0006", "0008", "0009")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
