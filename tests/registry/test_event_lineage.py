"""The registry's events say what caused them: a reassessment case opened because of a
resolved grievance carries that grievance event's trace, its id as `causationid` and the
correlation of the request that resolved it (the registry process of `platform` consumes a
real event from the real broker)."""

from __future__ import annotations

from sqlalchemy import text

from shared.context import parse_traceparent
from tests.harness import wait_for
from tests.registry.factories import RegistryRows
from tests.registry.test_grievance_consumer import envelope, household_in, publish, resolved

TRACE = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


async def test_a_case_opened_by_a_resolved_grievance_continues_its_trace_and_names_its_cause(
    platform, infrastructure, clean_databases
):
    household = await household_in(infrastructure)
    event = resolved(household.id)
    cause = envelope(event).model_copy(
        update={
            "traceparent": TRACE,
            "causationid": "grievance-desk-request-1",
            "correlationid": "grievance-desk-request-1",
        }
    )
    await publish(infrastructure, cause)

    async def case_opened() -> dict | None:
        async with RegistryRows(infrastructure.database_url("registry")) as session:
            row = await session.execute(
                text(
                    "SELECT traceparent, causationid, correlationid FROM outbox "
                    "WHERE type = 'kh.gov.sp.registry.case.opened.v1' AND causationid = :cause"
                ),
                {"cause": cause.id},
            )
            found = row.first()
            return None if found is None else dict(found._mapping)

    opened = await wait_for(case_opened, timeout=60)
    assert opened["correlationid"] == "grievance-desk-request-1"
    assert opened["traceparent"] is not None
    assert parse_traceparent(opened["traceparent"])[0] == parse_traceparent(TRACE)[0]
