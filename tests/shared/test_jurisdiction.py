"""The jurisdiction filter: the one helper every repository uses for row visibility."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from shared.db.compiled import CompiledStatement
from shared.db.engine import Database, new_metadata
from shared.jurisdiction import (
    jurisdiction_filter,
    jurisdiction_parameters,
    jurisdiction_shape,
    location_index,
    require_in_jurisdiction,
    stand_in,
)
from shared.principal import Principal
from shared.problems import Problem
from tests.harness import (
    CP_BANTEAY_MEANCHEY,
    CP_PHNOM_PENH,
    CS_PHNOM_PENH_THMEI,
    CS_TUEK_THLA,
    DMK_SEN_SOK,
    NATIONAL,
)

metadata = new_metadata()
records = sa.Table(
    "test_located_record",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("location_code", sa.Text, nullable=True),
    location_index("ix_test_located_record_location", "location_code"),
)

ROWS = {
    "own commune village": "12080102",
    "own commune itself": "120801",
    "sibling commune village": "12080204",
    "other district in the province": "12010101",
    "district-level record": "1208",
    "other province": "01020101",
    "no location": None,
}


@pytest.fixture
async def database(infrastructure, clean_databases):
    db = Database(infrastructure.database_url("platform"))
    async with db.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
        await conn.execute(records.delete())
        await conn.execute(
            records.insert(), [{"name": k, "location_code": v} for k, v in ROWS.items()]
        )
    yield db
    await db.dispose()


async def visible(db: Database, principal: Principal) -> set[str]:
    async with db.transaction() as session:
        result = await session.execute(
            sa.select(records.c.name).where(jurisdiction_filter(principal, records.c.location_code))
        )
        return set(result.scalars())


@pytest.mark.parametrize(
    ("principal", "expected"),
    [
        (CS_PHNOM_PENH_THMEI, {"own commune village", "own commune itself"}),
        (CS_TUEK_THLA, {"sibling commune village"}),
        (
            DMK_SEN_SOK,
            {
                "own commune village",
                "own commune itself",
                "sibling commune village",
                "district-level record",
            },
        ),
        (CP_PHNOM_PENH, set(ROWS) - {"other province", "no location"}),
        (CP_BANTEAY_MEANCHEY, {"other province"}),
        (NATIONAL, set(ROWS)),
        (Principal.anonymous(), set()),
        (Principal(sub="client:ministry", client=True, scopes=frozenset({"registry.read"})), set()),
    ],
    ids=[
        "commune",
        "sibling-commune",
        "parent-district",
        "province",
        "other-province",
        "national",
        "anonymous",
        "machine-client",
    ],
)
async def test_each_principal_sees_exactly_its_area(database, principal, expected):
    assert await visible(database, principal) == expected


async def test_a_statement_compiled_once_per_shape_sees_what_the_filter_sees(database):
    """The hot reads compile their statement once per jurisdiction shape (from a stand-in
    principal) and pass each caller's area as a parameter: every caller must see exactly what
    the filter built for that caller shows."""
    compiled = {}
    principals = [
        CS_PHNOM_PENH_THMEI, CS_TUEK_THLA, DMK_SEN_SOK, CP_PHNOM_PENH, CP_BANTEAY_MEANCHEY,
        NATIONAL, Principal.anonymous(),
    ]  # fmt: skip
    for principal in principals:
        shape = jurisdiction_shape(principal)
        if shape not in compiled:
            compiled[shape] = CompiledStatement(
                sa.select(records.c.name).where(
                    jurisdiction_filter(stand_in(shape), records.c.location_code)
                )
            )
        async with database.reads() as connection:
            rows = await compiled[shape].fetch(connection, **jurisdiction_parameters(principal))
        assert {r["name"] for r in rows} == await visible(database, principal), principal.sub
    assert set(compiled) == {"area", "national", "none"}


async def test_two_filters_in_one_statement_keep_their_own_areas(database):
    """A caller's area and a narrowing to another area (`within` in the registry) are two
    parameters; a compiled statement refuses to set them both from one value."""
    statement = sa.select(records.c.name).where(
        jurisdiction_filter(DMK_SEN_SOK, records.c.location_code),
        jurisdiction_filter(CS_TUEK_THLA, records.c.location_code),
    )
    async with database.transaction() as session:
        assert set((await session.execute(statement)).scalars()) == {"sibling commune village"}
    compiled = CompiledStatement(statement)
    async with database.reads() as connection:
        rows = await compiled.fetch(connection)  # the values bound when it was built
        assert {r["name"] for r in rows} == {"sibling commune village"}
        with pytest.raises(ValueError, match="jurisdiction_prefix"):
            await compiled.fetch(connection, **jurisdiction_parameters(CS_PHNOM_PENH_THMEI))


async def test_the_filter_is_served_by_the_location_index(database):
    statement = sa.select(records.c.name).where(
        jurisdiction_filter(DMK_SEN_SOK, records.c.location_code)
    )
    sql = str(statement.compile(compile_kwargs={"literal_binds": True}))
    async with database.engine.connect() as conn:
        await conn.execute(sa.text("SET enable_seqscan = off"))
        plan = "\n".join(r[0] for r in await conn.execute(sa.text(f"EXPLAIN {sql}")))
    assert "ix_test_located_record_location" in plan, plan


def test_writes_outside_the_area_are_refused():
    require_in_jurisdiction(CS_PHNOM_PENH_THMEI, "12080102", what="A household")
    require_in_jurisdiction(NATIONAL, None, what="A programme")
    with pytest.raises(Problem) as refused:
        require_in_jurisdiction(CS_TUEK_THLA, "12080102", what="A household")
    assert refused.value.status == 403
    with pytest.raises(Problem):
        require_in_jurisdiction(DMK_SEN_SOK, None, what="A record without location")


def test_an_admin_code_must_fit_the_tier():
    with pytest.raises(ValueError, match="does not fit tier cs"):
        Principal(sub="x", tier="cs", admin_code="1208")
    with pytest.raises(ValueError, match="does not fit tier national"):
        Principal(sub="x", tier="national", admin_code="12")
