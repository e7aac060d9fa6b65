"""Member name search: one trigram index over both scripts instead of one per script.

Revision ID: 0009
Revises: 0002
Create Date: 2026-11-21

Migration 0002 indexed the Khmer and the Latin full name in two composite GIN indexes
(district_code, name gin_trgm_ops). Every member written (registration, bulk import) paid
for two GIN indexes, each with its own pending list and its own district posting tree.
This index holds both names in one expression, `full_name_km || ' ' || full_name_latin`,
after the district: the fuzzy search asks `query <% names` (word similarity: the query
against the best-matching extent of the names, i.e. the name in the query's script), which
gin_trgm_ops answers, restricted to the district by the index's first column.

The expression must stay exactly as written here: the search (households/repository.py
`member_search_statement`) spells the same expression so that the planner matches it.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEARCH_NAMES = "(full_name_km || ' ' || full_name_latin)"


def upgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_member_district_name_km_trgm")
    op.execute("DROP INDEX IF EXISTS ix_member_district_name_latin_trgm")
    op.execute(
        "CREATE INDEX ix_member_district_search_names_trgm ON member "
        f"USING gin (district_code, {SEARCH_NAMES} gin_trgm_ops)"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_member_district_search_names_trgm")
    op.execute(
        "CREATE INDEX ix_member_district_name_km_trgm ON member "
        "USING gin (district_code, full_name_km gin_trgm_ops)"
    )
    op.execute(
        "CREATE INDEX ix_member_district_name_latin_trgm ON member "
        "USING gin (district_code, full_name_latin gin_trgm_ops)"
    )
