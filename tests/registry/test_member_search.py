"""Fuzzy name search in one district, in Khmer or Latin script, served by the district's
names dictionary (migration 0011), limited to the caller's area, logged as reads of
personal data."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, text
from sqlalchemy.dialects import postgresql

from services.registry.audit.models import PersonalDataAccess
from services.registry.households import repository
from services.registry.households.schemas import MemberSearchResult
from tests.harness import (
    CP_BANTEAY_MEANCHEY,
    CP_PHNOM_PENH,
    CS_PHNOM_PENH_THMEI,
    CS_TUEK_THLA,
    DMK_SEN_SOK,
    NATIONAL,
)
from tests.registry.conftest import as_
from tests.registry.factories import (
    VILLAGE_BANTEAY_MEANCHEY,
    VILLAGE_TUEK_THLA,
    RegistryRows,
    make_household,
    member,
)
from tests.registry.test_households import assert_problem


@pytest.fixture
async def people(infrastructure, clean_databases) -> dict:
    """Households in both sangkats of Khan Sen Sok and one in another province."""
    made = {}
    async with RegistryRows(infrastructure.database_url("registry")) as session:
        own = await make_household(
            session,
            members=[
                member(national_id="010203040"),  # សុខ ចាន់ថា / Sok Chantha, 1985
                member(
                    relationship="child",
                    given_name_km="ចាន់ធូ",
                    given_name_latin="Chanthou",
                    birth_date=date(2010, 5, 1),
                ),
                member(
                    relationship="spouse",
                    sex="male",
                    family_name_km="កែវ",
                    given_name_km="វិសាល",
                    family_name_latin="Keo",
                    given_name_latin="Visal",
                    birth_date=date(1983, 2, 2),
                ),
            ],
        )
        sibling = await make_household(
            session,
            village_code=VILLAGE_TUEK_THLA,
            members=[member(given_name_latin="Chanthy", given_name_km="ចាន់ធី")],
        )
        elsewhere = await make_household(
            session, village_code=VILLAGE_BANTEAY_MEANCHEY, members=[member()]
        )
        made.update(own=own, sibling=sibling, elsewhere=elsewhere)
    return made


async def search(app, principal, **params):
    async with as_(app, principal) as client:
        return await client.get("/members/search", params={"district": "1208", **params})


async def test_latin_search_finds_similar_names_most_similar_first(app, people):
    response = await search(app, DMK_SEN_SOK, q="Sok  Chantha")
    assert response.status_code == 200, response.text
    hits = response.json()["items"]
    names = [(h["given_name_latin"], h["household_code"]) for h in hits]
    assert names[0] == ("Chantha", people["own"].code) and hits[0]["similarity"] == 1.0
    assert ("Chanthy", people["sibling"].code) in names
    assert ("Visal", people["own"].code) not in names
    assert {h["village_code"][:4] for h in hits} == {"1208"}, "the other province is not searched"
    similarities = [h["similarity"] for h in hits]
    assert similarities == sorted(similarities, reverse=True)
    assert "national_id" not in hits[0] and "phone" not in hits[0]
    # Built from rows, not through the model: exactly what the model would have written.
    body = response.json()
    assert MemberSearchResult.model_validate(body).model_dump(mode="json") == body
    misspelt = (await search(app, DMK_SEN_SOK, q="sokh chanta")).json()["items"]
    assert ("Chantha", people["own"].code) in [
        (h["given_name_latin"], h["household_code"]) for h in misspelt
    ]


async def test_khmer_search_uses_the_khmer_names(app, people):
    hits = (await search(app, DMK_SEN_SOK, q="សុខ ចាន់ថា")).json()["items"]
    assert hits and hits[0]["given_name_km"] == "ចាន់ថា"
    keo = (await search(app, DMK_SEN_SOK, q="កែវ វិសាល")).json()["items"]
    assert [h["given_name_latin"] for h in keo] == ["Visal"]


async def test_birth_year_narrows_the_search(app, people):
    hits = (await search(app, DMK_SEN_SOK, q="sok chanth", birth_year=2010)).json()["items"]
    assert [h["given_name_latin"] for h in hits] == ["Chanthou"]


@pytest.mark.parametrize(
    ("name", "principal", "expected"),
    [
        ("commune", CS_PHNOM_PENH_THMEI, {"own"}),
        ("sibling-commune", CS_TUEK_THLA, {"sibling"}),
        ("parent-district", DMK_SEN_SOK, {"own", "sibling"}),
        ("province", CP_PHNOM_PENH, {"own", "sibling"}),
        ("national", NATIONAL, {"own", "sibling"}),
    ],
)
async def test_each_caller_finds_only_its_own_area(app, people, name, principal, expected):
    response = await search(app, principal, q="sok chanth")
    assert response.status_code == 200, response.text
    codes = {h["household_code"] for h in response.json()["items"]}
    assert codes == {people[key].code for key in expected}


async def test_a_district_outside_ones_area_is_refused(app, people):
    refused = await search(app, CP_BANTEAY_MEANCHEY, q="sok chantha")
    other = await search(app, CS_PHNOM_PENH_THMEI, q="sok chantha", district="0102")
    assert_problem(refused, 403, "#/query/district")
    assert_problem(other, 403, "#/query/district")
    own_province = await search(app, CP_BANTEAY_MEANCHEY, q="sok chantha", district="0102")
    assert [h["household_code"] for h in own_province.json()["items"]] == [people["elsewhere"].code]


BAD_PARAMETERS = [
    ({"district": "1299"}, "#/query/district"),
    ({"district": "120801"}, "#/query/district"),
    ({"q": "s"}, "#/query/q"),
    ({"q": " s "}, "#/query/q"),
    ({"birth_year": "1800"}, "#/query/birth_year"),
    ({"limit": "1000"}, "#/query/limit"),
]


async def test_bad_search_parameters_are_named(app, people):
    for params, pointer in BAD_PARAMETERS:
        response = await search(app, DMK_SEN_SOK, **{"q": "sok", **params})
        assert_problem(response, 422, pointer)


async def test_each_hit_shown_to_a_person_is_logged(app, people):
    hits = (await search(app, CP_PHNOM_PENH, q="sok chantha")).json()["items"]
    async with app.state.database.transaction() as session:
        rows = (await session.execute(select(PersonalDataAccess))).scalars().all()
    assert sorted(str(r.entity_id) for r in rows) == sorted(h["member_id"] for h in hits)
    assert {(r.actor_sub, r.entity, r.purpose) for r in rows} == {
        (CP_PHNOM_PENH.sub, "member", "registry_search_members")
    }


# A district with enough people that the planner's choice means something: 24,000 members
# named from common Khmer family and given names, spread over the villages of both sangkats.
_POPULATE = """
WITH names AS (
    SELECT ARRAY['Sok','Chan','Keo','Meas','Ouk','Pich','Heng','Ly','Seng','Touch',
                 'Kim','Nhem','Prak','Sam','Yim','Chea','Mao','Phan','Ros','Tep'] AS family_latin,
           ARRAY['សុខ','ចាន់','កែវ','មាស','អ៊ុក','ពេជ្រ','ហេង','លី','សេង','ទូច',
                 'គីម','ញឹម','ប្រាក់','សំ','យឹម','ជា','ម៉ៅ','ផាន','រស់','ទេព'] AS family_km,
           ARRAY['Dara','Sophea','Bopha','Vuthy','Srey','Rith','Pisey','Sokha','Nary','Vanna',
                 'Kosal','Malis','Rachana','Sothea','Thida','Veasna','Borey','Channa','Lina',
                 'Panha'] AS given_latin,
           ARRAY['ដារ៉ា','សុភា','បុប្ផា','វុទ្ធី','ស្រី','រិទ្ធ','ពិសី','សុខា','ណារី','វណ្ណា',
                 'កុសល','ម្លិះ','រចនា','សុធា','ធីតា','វាសនា','បុរី','ចន្ណា','លីណា',
                 'បញ្ញា'] AS given_km,
           ARRAY['12080102','12080104','12080105','12080204','12080201'] AS villages
), households AS (
    INSERT INTO household (id, code, village_code, status)
    SELECT gen_random_uuid(), 'HX' || lpad(n::text, 9, '0'), villages[1 + n % 5], 'active'
    FROM generate_series(1, 6000) AS n, names
    RETURNING id, village_code
)
INSERT INTO member (id, household_id, village_code, family_name_km, given_name_km,
                    family_name_latin, given_name_latin, sex, birth_date, relationship)
SELECT gen_random_uuid(), h.id, h.village_code,
       family_km[1 + (k * 7 + i) % 20], given_km[1 + (k * 13 + i * 3) % 20],
       family_latin[1 + (k * 7 + i) % 20], given_latin[1 + (k * 13 + i * 3) % 20],
       CASE WHEN i % 2 = 0 THEN 'female' ELSE 'male' END,
       date '1950-01-01' + ((k * 37 + i * 911) % 25000)::int,
       CASE WHEN i = 0 THEN 'head' ELSE 'child' END
FROM (SELECT h.*, row_number() OVER () AS k FROM households h) h, names,
     generate_series(0, 3) AS i
"""


async def populate(app) -> None:
    async with app.state.database.engine.begin() as conn:
        await conn.execute(text(_POPULATE))
        await conn.execute(text("ANALYZE household"))
        await conn.execute(text("ANALYZE member"))
        await conn.execute(text("ANALYZE member_name"))


@pytest.mark.parametrize(
    ("principal", "query", "khmer", "name_index"),
    [
        (DMK_SEN_SOK, "sok dara", False, "ix_member_district_name_latin"),
        (CS_PHNOM_PENH_THMEI, "sok dara", False, "ix_member_district_name_latin"),
        (DMK_SEN_SOK, "សុខ ដារ៉ា", True, "ix_member_district_name_km"),
    ],
)
async def test_the_search_is_served_by_the_names_dictionary_and_the_name_index(
    app, principal, query, khmer, name_index
):
    """Similar names come from the district's dictionary, their members from the (district,
    name, id) btree; no member's name is compared."""
    await populate(app)
    statement = repository.member_search_statement(
        principal,
        district_code="1208",
        query=query,
        khmer=khmer,
        birth_year=None,
        limit=20,
    )
    sql = str(
        statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    ).replace("%%", "%")  # the dialect escapes % for its paramstyle; EXPLAIN runs it raw
    async with app.state.database.engine.connect() as conn:
        # As in the jurisdiction plan test: a test-sized table is cheapest to scan whole, so
        # scans are ruled out and the planner must pick between the indexes.
        await conn.exec_driver_sql("SET enable_seqscan = off")
        plan = "\n".join(r[0] for r in await conn.exec_driver_sql(f"EXPLAIN {sql}"))
    # The names compared are the dictionary's (by its trigram index, or here, with 400 names
    # in the district, by its primary key: either way restricted to the district).
    assert "on member_name" in plan, plan
    dictionary = plan.split("on member_name", 1)[1].split("Cond:", 1)[1].split("\n", 1)[0]
    assert "district_code = '1208'" in dictionary, plan
    assert "similarity(member." not in plan and "similarity(member_1." not in plan, plan
    assert name_index in plan, plan
    lookup = plan.split(name_index, 1)[1].split("Index Cond:", 1)[1].split("\n", 1)[0]
    assert "district_code = '1208'" in lookup and "names.name" in lookup, plan
    assert "Seq Scan" not in plan, plan
    hits = (await search(app, principal, q=query)).json()["items"]
    assert len(hits) == 20 and hits[0]["similarity"] == 1.0


BRUTE_FORCE = """
SELECT id::text FROM member
WHERE district_code = '1208' AND village_code LIKE :area
  AND similarity({name}, :q) >= 0.3
  AND (CAST(:year AS int) IS NULL OR extract(year FROM birth_date) = CAST(:year AS int))
ORDER BY similarity({name}, :q) DESC, id LIMIT :limit
"""


@pytest.mark.parametrize(
    ("principal", "query", "birth_year", "limit"),
    [
        (DMK_SEN_SOK, "sok dara", None, 20),
        (CS_TUEK_THLA, "sok dara", None, 20),
        (DMK_SEN_SOK, "chan sophea", None, 100),
        (DMK_SEN_SOK, "sokha", None, 50),
        (CS_PHNOM_PENH_THMEI, "keo bopha", 1990, 20),
        (DMK_SEN_SOK, "ស៊ុក ដារ៉ា", None, 30),
        (CP_PHNOM_PENH, "meas", None, 10),
    ],
)
async def test_the_hits_are_exactly_the_most_similar_members(
    app, principal, query, birth_year, limit
):
    """Whatever the dictionary and the per-name limit do, the answer is what comparing every
    member of the district would give: the `limit` most similar, ties by member id."""
    await populate(app)
    params = {"q": query, "limit": limit}
    if birth_year:
        params["birth_year"] = birth_year
    response = await search(app, principal, **params)
    assert response.status_code == 200, response.text
    found = [h["member_id"] for h in response.json()["items"]]
    khmer = any("\u1780" <= c <= "\u17ff" for c in query)
    async with app.state.database.engine.connect() as conn:
        expected = (
            (
                await conn.execute(
                    text(BRUTE_FORCE.format(name="full_name_km" if khmer else "full_name_latin")),
                    {
                        "area": principal.admin_code + "%",
                        "q": query if khmer else query.lower(),
                        "year": birth_year,
                        "limit": limit,
                    },
                )
            )
            .scalars()
            .all()
        )
    assert expected, "the query must find someone for the comparison to mean something"
    assert found == expected


async def test_names_written_later_are_found(app, people):
    """The dictionary follows the members: a new registration's names, a corrected name."""
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        household = (await client.get(f"/households/{people['own'].id}")).json()
    head = household["members"][0]
    async with app.state.database.engine.begin() as conn:
        await conn.execute(
            text("UPDATE member SET given_name_latin = 'Sovannarith' WHERE id = :id"),
            {"id": head["id"]},
        )
    hits = (await search(app, DMK_SEN_SOK, q="sok sovannarith")).json()["items"]
    assert [h["member_id"] for h in hits] == [head["id"]]
