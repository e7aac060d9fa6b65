"""The test factory writes households the schema accepts (generated names included)."""

from sqlalchemy import select

from services.registry.households.models import Member
from tests.registry.factories import RegistryRows, make_household, member


async def test_factory_household_has_generated_search_names(infrastructure, clean_databases):
    async with RegistryRows(infrastructure.database_url("registry")) as session:
        household = await make_household(
            session, members=[member(), member(relationship="child", given_name_latin="Dara")]
        )
        rows = (
            (await session.execute(select(Member).where(Member.household_id == household.id)))
            .scalars()
            .all()
        )
    assert household.code.startswith("HH") and len(household.code) == 11
    assert household.head_member_id in {m.id for m in rows}
    assert sorted(m.full_name_latin for m in rows) == ["sok chantha", "sok dara"]
    assert {m.district_code for m in rows} == {"1208"}
