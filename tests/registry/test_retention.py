"""Retention: an import left uncommitted expires (its file and staged rows dropped, its
report kept, its commit refused); DCI callbacks sent long ago are deleted and old search
answers lose their records but keep who asked what."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
from sqlalchemy import func, select, update

from services.registry.dci.models import DciDelivery, DciTransaction
from services.registry.imports.models import HouseholdImport, ImportFileChunk, ImportIssue
from services.registry.imports.repository import StagingTables
from services.registry.retention import service as retention
from shared.db.engine import asyncpg_dsn
from tests.harness import CS_PHNOM_PENH_THMEI, client_for
from tests.registry.conftest import as_
from tests.registry.dci_support import DCI_CLIENT, by_household_id, search_message
from tests.registry.factories import RegistryRows, make_household
from tests.registry.test_imports import SAMPLE_CSV, committed, small_file, validated

DAY = timedelta(days=1)


async def retention_pass(app, **overrides) -> retention.RetentionResult:
    settings = {"import_retention": 14 * DAY, "dci_result_retention": 30 * DAY, **overrides}
    return await retention.run_pass(app.state.database, **settings)


async def age(app, model, ids, column: str, days: float) -> None:
    """Move rows' timestamps back `days`, as that much time passing would."""
    async with app.state.database.transaction() as session:
        await session.execute(
            update(model)
            .where(model.id.in_(ids))
            .values({column: getattr(model, column) - timedelta(days=days)})
        )


async def staging_tables_of(infrastructure, import_id: str) -> list[bool]:
    connection = await asyncpg.connect(asyncpg_dsn(infrastructure.database_url("registry")))
    try:
        return [
            await connection.fetchval("SELECT to_regclass($1) IS NOT NULL", name)
            for name in StagingTables.names(uuid.UUID(import_id))
        ]
    finally:
        await connection.close()


async def counts(app, import_id: str) -> tuple[int, int]:
    async with app.state.database.transaction() as session:
        chunks = await session.scalar(
            select(func.count()).where(ImportFileChunk.import_id == uuid.UUID(import_id))
        )
        issues = await session.scalar(
            select(func.count()).where(ImportIssue.import_id == uuid.UUID(import_id))
        )
    return chunks, issues


# -- imports ---------------------------------------------------------------------------------


async def test_an_import_left_uncommitted_expires_and_keeps_its_report(app, infrastructure):
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        stale = await validated(client, SAMPLE_CSV.read_bytes(), "stale.csv")
        recent = await validated(client, small_file(2), "recent.csv")
        done = await validated(client, small_file(1, prefix="D"), "done.csv")
        await committed(client, done["id"])
        chunks, issues = await counts(app, stale["id"])
        assert chunks > 0 and issues > 0
        assert await staging_tables_of(infrastructure, stale["id"]) == [True, True, True]

        ids = [uuid.UUID(i["id"]) for i in (stale, done)]
        await age(app, HouseholdImport, ids, "updated_at", 15)
        await age(app, HouseholdImport, [uuid.UUID(recent["id"])], "updated_at", 13)
        result = await retention_pass(app)

        assert result.imports_expired == 1
        states = {
            name: (await client.get(f"/imports/{i['id']}")).json()["status"]
            for name, i in (("stale", stale), ("recent", recent), ("done", done))
        }
        assert states == {"stale": "expired", "recent": "validated", "done": "committed"}
        assert await counts(app, stale["id"]) == (0, issues)
        assert await staging_tables_of(infrastructure, stale["id"]) == [False, False, False]
        report = await client.get(f"/imports/{stale['id']}/errors")
        assert report.status_code == 200 and len(report.json()["items"]) > 0

        refused = await client.post(f"/imports/{stale['id']}/commit")
        assert refused.status_code == 409
        assert refused.json()["type"].endswith("import-expired")
        assert "upload the file again" in refused.json()["detail"]
        # The recent one is untouched and still commits.
        assert (await committed(client, recent["id"]))["status"] == "committed"

    again = await retention_pass(app)
    assert again.imports_expired == 0


# -- DCI -------------------------------------------------------------------------------------


async def test_old_dci_answers_lose_their_records_but_not_who_asked(app, infrastructure):
    async with RegistryRows(infrastructure.database_url("registry")) as session:
        household = await make_household(session)
    async with client_for(app, DCI_CLIENT, audience="registry") as client:
        old = await client.post(
            "/dci/registry/sync/search", json=search_message(by_household_id(household.code))
        )
        new = await client.post(
            "/dci/registry/sync/search", json=search_message(by_household_id(household.code))
        )
    assert old.status_code == new.status_code == 200
    old_id = uuid.UUID(old.json()["message"]["correlation_id"])
    async with app.state.database.transaction() as session:
        new_id = await session.scalar(select(DciTransaction.id).where(DciTransaction.id != old_id))
        # Callbacks: one delivered long ago, one given up on long ago, one still pending (kept
        # whatever its age), one delivered recently.
        for status in ("delivered", "failed", "pending", "delivered"):
            session.add(
                DciDelivery(
                    kind="on-search",
                    transaction_id=old_id,
                    url="http://x/",
                    payload={},
                    status=status,
                )
            )
    await age(app, DciTransaction, [old_id], "completed_at", 31)
    async with app.state.database.transaction() as session:
        deliveries = (await session.scalars(select(DciDelivery).order_by(DciDelivery.id))).all()
        await session.execute(
            update(DciDelivery)
            .where(DciDelivery.id.in_([d.id for d in deliveries[:3]]))
            .values(created_at=datetime.now(UTC) - 31 * DAY)
        )

    result = await retention_pass(app)

    assert (result.deliveries_deleted, result.search_answers_stripped) == (2, 1)
    async with app.state.database.transaction() as session:
        left = (await session.scalars(select(DciDelivery).order_by(DciDelivery.id))).all()
        purged = await session.get(DciTransaction, old_id)
        kept = await session.get(DciTransaction, new_id)
    assert [d.status for d in left] == ["pending", "delivered"]

    [answer] = purged.response["message"]["search_response"]
    assert "data" not in answer
    assert answer["status"] == "succ"
    assert answer["status_reason_message"].startswith("results no longer kept")
    assert purged.results_purged_at is not None
    assert purged.request["message"]["search_request"][0]["search_criteria"]["query"] == {
        "type": "HOUSEHOLD_ID",
        "value": household.code,
    }
    assert purged.client_sub == DCI_CLIENT.sub and purged.reference_ids
    [recent] = kept.response["message"]["search_response"]
    assert recent["data"]["reg_records"]
    assert kept.results_purged_at is None

    again = await retention_pass(app)
    assert (again.deliveries_deleted, again.search_answers_stripped) == (0, 0)


async def test_one_replica_at_a_time(app, infrastructure):
    """While another process holds the retention lock, a pass does nothing."""
    async with as_(app, CS_PHNOM_PENH_THMEI) as client:
        stale = await validated(client, small_file(1), "stale.csv")
    await age(app, HouseholdImport, [uuid.UUID(stale["id"])], "updated_at", 15)
    holder = await asyncpg.connect(asyncpg_dsn(infrastructure.database_url("registry")))
    try:
        await holder.execute("SELECT pg_advisory_lock($1)", retention.LOCK_KEY)
        blocked = await retention_pass(app)
    finally:
        await holder.close()
    assert blocked.imports_expired == 0
    assert (await retention_pass(app)).imports_expired == 1
