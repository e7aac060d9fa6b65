"""Every read of a complainant's identity by a person is audit-logged (and nothing else is)."""

from __future__ import annotations

import asyncpg

from shared.db.engine import asyncpg_dsn
from tests.grievance.conftest import START, act, record
from tests.harness import (
    GRIEVANCE_CS_PHNOM_PENH_THMEI,
    GRIEVANCE_DMK_SEN_SOK,
    GRIEVANCE_NATIONAL,
)


async def access_log(infrastructure) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(asyncpg_dsn(infrastructure.database_url("grievance")))
    try:
        return await conn.fetch(
            "SELECT entity, entity_id::text AS entity_id, sensitive_fields, actor_sub, actor_tier, "
            "actor_admin_code, purpose, at FROM personal_data_access ORDER BY id"
        )
    finally:
        await conn.close()


async def test_each_read_of_a_complainant_identity_by_its_handlers_is_logged(
    service, infrastructure
):
    async with service.client(GRIEVANCE_CS_PHNOM_PENH_THMEI) as commune:
        created = await record(commune)
        one = await commune.get(f"/grievances/{created['id']}")
        listed = await commune.get("/grievances")
        worklist = await commune.get("/worklists/assigned")
    assert one.json()["complainant"]["name"] == "Sok Dara"
    assert listed.json()["items"][0]["complainant"]["name"] == "Sok Dara"
    assert worklist.json()["items"][0]["complainant"]["name"] == "Sok Dara"

    rows = await access_log(infrastructure)
    assert [r["purpose"] for r in rows] == [
        "record_grievance",
        "get_grievance",
        "list_grievances",
        "worklist_assigned",
    ]
    principal = GRIEVANCE_CS_PHNOM_PENH_THMEI
    for row in rows:
        assert (row["entity"], row["entity_id"]) == ("grievance", created["id"])
        assert row["sensitive_fields"] is True  # the complainant's phone went out
        assert (row["actor_sub"], row["actor_tier"], row["actor_admin_code"]) == (
            principal.sub,
            "cs",
            "120801",
        )
        assert row["at"] == START  # the service's (injected) clock


async def test_a_change_answered_with_the_identity_is_logged_as_that_change(
    service, infrastructure
):
    async with service.client(GRIEVANCE_CS_PHNOM_PENH_THMEI) as commune:
        created = await record(commune)
        acknowledged = await act(commune, created, "acknowledge")
    assert acknowledged.status_code == 200
    assert acknowledged.json()["complainant"]["name"] == "Sok Dara"
    purposes = [r["purpose"] for r in await access_log(infrastructure)]
    # record, the GET that fetched the ETag, then the acknowledgement's answer.
    assert purposes == ["record_grievance", "get_grievance", "acknowledge_grievance"]


async def test_reads_without_the_identity_are_not_logged(service, infrastructure):
    async with service.client(GRIEVANCE_CS_PHNOM_PENH_THMEI) as commune:
        named = await record(commune)
        anonymous = await record(commune, anonymous=True, complainant=None)
    before = len(await access_log(infrastructure))
    assert before == 1  # the named one's creation answer; the anonymous one has no identity
    # Above the handling unit: the grievance is visible, its complainant is not.
    async with service.client(GRIEVANCE_DMK_SEN_SOK) as district:
        seen = (await district.get(f"/grievances/{named['id']}")).json()
        listed = (await district.get("/grievances")).json()
    async with service.client(GRIEVANCE_NATIONAL) as national:
        await national.get(f"/grievances/{named['id']}")
    async with service.client(GRIEVANCE_CS_PHNOM_PENH_THMEI) as commune:
        await commune.get(f"/grievances/{anonymous['id']}")
        timeline = await commune.get(f"/grievances/{named['id']}/timeline")
    assert seen["complainant"] is None and seen["complainant_visible"] is False
    assert all(item["complainant"] is None for item in listed["items"])
    assert timeline.status_code == 200
    assert len(await access_log(infrastructure)) == before


async def test_an_escalated_grievance_logs_reads_by_its_new_handlers_only(service, infrastructure):
    async with service.client(GRIEVANCE_CS_PHNOM_PENH_THMEI) as commune:
        created = await record(commune)
        escalated = await act(commune, created, "escalate", {"reason": "Needs the district."})
        # The escalating commune no longer handles it: its answer carries no identity.
        assert escalated.json()["complainant"] is None
        await commune.get(f"/grievances/{created['id']}")
    async with service.client(GRIEVANCE_DMK_SEN_SOK) as district:
        seen = (await district.get(f"/grievances/{created['id']}")).json()
    assert seen["complainant"]["name"] == "Sok Dara"
    rows = await access_log(infrastructure)
    assert [(r["actor_admin_code"], r["purpose"]) for r in rows] == [
        ("120801", "record_grievance"),
        ("120801", "get_grievance"),  # the ETag fetch before escalating, still its handler
        ("1208", "get_grievance"),
    ]
