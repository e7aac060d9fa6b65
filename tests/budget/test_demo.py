"""The local stack's budget demo data loads through the service's own rules, once, and every
figure sums to its parent's."""

from sqlalchemy import text

from gateway.identity.dev_issuer import PEOPLE
from services.budget import demo
from shared.db.engine import Database


async def test_demo_seed_publishes_down_to_the_sangkats_once(infrastructure, clean_databases):
    url = infrastructure.database_url("budget")
    first = await demo.seed(url)
    again = await demo.seed(url)
    database = Database(url, pool_size=1)
    try:
        async with database.transaction() as session:
            runs = (
                await session.execute(
                    text(
                        "SELECT r.allocating_admin_code, r.envelope_riel, sum(u.amount_riel) "
                        "FROM allocation_run r JOIN allocation_unit u ON u.run_id = r.id "
                        "WHERE r.status = 'published' GROUP BY 1, 2 ORDER BY 1"
                    )
                )
            ).all()
            requests = (await session.execute(text("SELECT count(*) FROM support_request"))).one()
            deciders = (
                await session.execute(
                    text(
                        "SELECT allocating_admin_code, proposed_by, approved_by "
                        "FROM allocation_run ORDER BY 1"
                    )
                )
            ).all()
            events = {
                (topic, kind)
                for topic, kind in await session.execute(
                    text("SELECT topic, type FROM outbox WHERE jurisdiction IS NOT NULL")
                )
            }
    finally:
        await database.dispose()
    assert len(first) == 1 and again == []
    assert [code for code, _, _ in runs] == ["", "12", "1208"]
    assert all(envelope == total for _, envelope, total in runs)
    assert runs[0][1] == demo.ENVELOPE_RIEL
    assert requests == (1,)
    # Proposed by each unit's demo officer, approved by its demo approver: the people a
    # developer logs in as (gateway/identity/dev_issuer.py) made the demo allocations.
    assert [tuple(row) for row in deciders] == [
        ("", "demo:national.officer", "demo:national.approver"),
        ("12", "demo:cp.phnom-penh", "demo:cp.phnom-penh.approver"),
        ("1208", "demo:dmk.sen-sok", "demo:dmk.sen-sok.approver"),
    ]
    demo_people = {f"demo:{p.username}" for p in PEOPLE}
    assert {sub for _, *subs in deciders for sub in subs} <= demo_people
    # Every state change went out through the outbox, on its sp.budget.<aggregate> topic.
    expected = {
        ("sp.budget.fiscal_year", "opened"), ("sp.budget.envelope", "set"),
        ("sp.budget.dataset", "uploaded"), ("sp.budget.allocation", "drafted"),
        ("sp.budget.allocation", "proposed"), ("sp.budget.allocation", "approved"),
        ("sp.budget.allocation", "published"), ("sp.budget.release", "planned"),
        ("sp.budget.release", "recorded"), ("sp.budget.expenditure", "recorded"),
        ("sp.budget.support_request", "submitted"),
    }  # fmt: skip
    assert {(t, k.split(".")[-2]) for t, k in events} == expected
