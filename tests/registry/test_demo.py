"""The local stack's demo data loads through the registry's own rules, once."""

from sqlalchemy import text

from services.registry import demo
from tests.registry.factories import RegistryRows


async def test_demo_seed_loads_the_demo_area_once(infrastructure, clean_databases):
    url = infrastructure.database_url("registry")
    first = await demo.seed(url)
    again = await demo.seed(url)
    async with RegistryRows(url) as session:
        statuses = dict(
            (await session.execute(text("SELECT status, count(*) FROM household GROUP BY 1"))).all()
        )
        enrolled = (
            await session.execute(
                text(
                    "SELECT e.programme_code, e.status, b.status FROM enrolment e "
                    "JOIN benefit_record b ON b.enrolment_id = e.id"
                )
            )
        ).all()
    assert len(first) == 1 and again == []
    assert statuses == {"active": 3, "pending_verification": 1}
    assert enrolled == [("FAMILY_PACKAGE", "enrolled", "paid")]
