"""The local stack's I-SAF demo data loads through the service's own rules, once."""

from sqlalchemy import text

from services.isaf import demo
from shared.db.engine import Database


async def test_demo_seed_loads_two_sangkats_once(infrastructure, clean_databases):
    url = infrastructure.database_url("isaf")
    first = await demo.seed(url)
    again = await demo.seed(url)
    database = Database(url, pool_size=1)
    try:
        async with database.transaction() as session:
            cycles = (await session.execute(text("SELECT count(*) FROM cycle"))).scalar_one()
            medians = (
                await session.execute(
                    text("SELECT median FROM scorecard_indicator ORDER BY code LIMIT 1")
                )
            ).scalar_one()
            statuses = dict(
                (await session.execute(
                    text("SELECT status, count(*) FROM jaap_action GROUP BY 1"))).all()
            )  # fmt: skip
    finally:
        await database.dispose()
    assert len(first) == 1 and again == []
    assert cycles == 2
    assert str(medians) == "3.5"  # ten votes: the mean of the two middle ones
    assert statuses == {"completed": 2, "not_started": 2}
