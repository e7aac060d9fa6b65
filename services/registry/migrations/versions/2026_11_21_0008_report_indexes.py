"""Covering location indexes for the reports: counting an area's households and members by
IDPoor level, sex and age reads only these indexes (index-only scans), not the tables.

Revision ID: 0008
Revises: 0002
Create Date: 2026-11-21

Measured on the national volume (4 M households, 17 M members; bench/registry_reads.py): the
members-by-level query of the largest district read 140,000 pages (heap pages scattered over
the table, since a district's members are registered over years) and took 1.6-2.3 s; with
these indexes it reads 11,000 index pages and takes 0.3 s. The price: about 1.1 GB (member)
and 0.25 GB (household) at that volume, and one more index to maintain per member written.
`ix_member_village_code` (0002) serves the same prefix searches with a smaller index and is
left as it is.

The prefix match of the jurisdiction helper needs `text_pattern_ops` (see
shared/jurisdiction.py). Built CONCURRENTLY so that deploying it does not block
registrations on a large registry.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.get_context().autocommit_block():
        op.execute(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_member_report ON member "
            "(village_code text_pattern_ops) INCLUDE (household_id, sex, birth_date, status)"
        )
        op.execute(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_household_report ON household "
            "(village_code text_pattern_ops) INCLUDE (id, status, poverty_level)"
        )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_household_report")
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_member_report")
