"""Member name search through a dictionary of the names of each district.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-21

Until now the fuzzy search ran on migration 0009's trigram index over every member row:
at the national volume (17 M members) a common name in the largest district (342,000
members) had 45,000 trigram candidates to recheck, and the search took 2.8 s at p50, 5.8 s
at p95 (bench/registry_reads.py). Each member written also paid for that GIN index, about
14 µs of the ~40 µs a member costs the importer's COPY.

Names repeat: a district has far fewer distinct names than members. `member_name` holds
each distinct full name of a district once per script; the trigram index is on it. The
search finds the similar names there, then each name's members through a btree on
(district_code, full name, id) that hands them over in id order, `limit` at most per name.

Statement-level triggers keep the dictionary complete: every INSERT or UPDATE of members
(one registration, one COPY of an import batch) adds the names it brought, in key order so
that two concurrent writers never deadlock. Names are never removed: a name nobody bears
any more matches members no longer, which the search's join already handles.

Also dropped: `ix_member_village_code` and `ix_household_village_code` (0002), which
migration 0008's covering `ix_member_report` / `ix_household_report` serve completely (the
same key, text_pattern_ops, with included columns).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REMEMBER_NAMES = """
CREATE FUNCTION member_name_remember() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO member_name (district_code, script, name)
    SELECT DISTINCT district_code, script, name FROM (
        SELECT district_code, 'km' AS script, full_name_km AS name FROM written_members
        UNION ALL
        SELECT district_code, 'latin', full_name_latin FROM written_members
    ) AS names
    ORDER BY 1, 2, 3
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE member_name (
            district_code text NOT NULL,
            script text NOT NULL CONSTRAINT ck_member_name_script CHECK (script IN ('km', 'latin')),
            name text NOT NULL,
            CONSTRAINT pk_member_name PRIMARY KEY (district_code, script, name)
        )
        """
    )
    op.execute(
        "INSERT INTO member_name (district_code, script, name) "
        "SELECT DISTINCT district_code, 'km', full_name_km FROM member "
        "UNION SELECT DISTINCT district_code, 'latin', full_name_latin FROM member"
    )
    op.execute(
        "CREATE INDEX ix_member_name_trgm ON member_name "
        "USING gin (district_code, script, name gin_trgm_ops)"
    )
    op.execute(REMEMBER_NAMES)
    for event in ("INSERT", "UPDATE"):
        op.execute(
            f"CREATE TRIGGER member_name_on_{event.lower()} AFTER {event} ON member "
            "REFERENCING NEW TABLE AS written_members FOR EACH STATEMENT "
            "EXECUTE FUNCTION member_name_remember()"
        )
    op.execute(
        "CREATE INDEX ix_member_district_name_latin ON member "
        "(district_code, full_name_latin, id) INCLUDE (village_code, birth_date)"
    )
    op.execute(
        "CREATE INDEX ix_member_district_name_km ON member "
        "(district_code, full_name_km, id) INCLUDE (village_code, birth_date)"
    )
    op.execute("DROP INDEX IF EXISTS ix_member_district_search_names_trgm")
    op.execute("DROP INDEX IF EXISTS ix_member_village_code")
    op.execute("DROP INDEX IF EXISTS ix_household_village_code")


def downgrade() -> None:
    op.execute(
        "CREATE INDEX ix_household_village_code ON household (village_code text_pattern_ops)"
    )
    op.execute("CREATE INDEX ix_member_village_code ON member (village_code text_pattern_ops)")
    op.execute(
        "CREATE INDEX ix_member_district_search_names_trgm ON member "
        "USING gin (district_code, (full_name_km || ' ' || full_name_latin) gin_trgm_ops)"
    )
    op.execute("DROP INDEX ix_member_district_name_km")
    op.execute("DROP INDEX ix_member_district_name_latin")
    op.execute("DROP TRIGGER member_name_on_update ON member")
    op.execute("DROP TRIGGER member_name_on_insert ON member")
    op.execute("DROP FUNCTION member_name_remember()")
    op.execute("DROP TABLE member_name")
