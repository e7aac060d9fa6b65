"""The retention pass, run inside the registry service every
`REGISTRY_RETENTION_INTERVAL_SECONDS`:

- imports validated (or failed) and left uncommitted for `REGISTRY_IMPORT_RETENTION_DAYS`
  expire: their stored file and staged rows are dropped, the import and its issues stay
  (`imports.repository.expire_stale_imports`);
- DCI callbacks and notifications delivered or given up on, and the records inside stored
  search answers, go after `REGISTRY_DCI_RESULT_RETENTION_DAYS`: they are copies of
  registry records the client already received. What each client asked, when, and each
  answer's status stay as the record of who read what (`dci.repository`).

Work goes in batches, each one short transaction holding a transaction-level advisory lock,
so replicas never purge the same rows at once and a pass over a large backlog never holds
locks for long. Nothing here runs on a request's path.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.dci import repository as dci_repository
from services.registry.imports import repository as imports_repository
from shared import clock
from shared.db.engine import Database

log = logging.getLogger(__name__)

LOCK_KEY = 0x5245_5445_4E54  # "RETENT": one retention pass at a time per database
IMPORT_BATCH = 20  # each drops up to three tables
ROW_BATCH = 5_000


@dataclass(frozen=True)
class RetentionResult:
    imports_expired: int = 0
    deliveries_deleted: int = 0
    search_answers_stripped: int = 0


async def _drain(
    database: Database, step: Callable[[AsyncSession], Awaitable[int]], batch: int
) -> int:
    """Run `step` in transactions until a batch comes back short; 0 when another replica
    holds the lock."""
    total = 0
    while True:
        async with database.transaction() as session:
            if not await session.scalar(select(func.pg_try_advisory_xact_lock(LOCK_KEY))):
                return total
            done = await step(session)
        total += done
        if done < batch:
            return total


async def run_pass(
    database: Database,
    *,
    import_retention: timedelta,
    dci_result_retention: timedelta,
    now: datetime | None = None,
) -> RetentionResult:
    now = now or clock.now()
    imports = await _drain(
        database,
        lambda s: imports_repository.expire_stale_imports(
            s, older_than=now - import_retention, limit=IMPORT_BATCH
        ),
        IMPORT_BATCH,
    )
    deliveries = await _drain(
        database,
        lambda s: dci_repository.purge_finished_deliveries(
            s, older_than=now - dci_result_retention, limit=ROW_BATCH
        ),
        ROW_BATCH,
    )
    answers = await _drain(
        database,
        lambda s: dci_repository.purge_search_results(
            s, older_than=now - dci_result_retention, limit=ROW_BATCH
        ),
        ROW_BATCH,
    )
    result = RetentionResult(imports, deliveries, answers)
    if imports or deliveries or answers:
        log.info(
            "retention: %d imports expired, %d DCI deliveries deleted, %d search answers "
            "stripped of their records",
            imports,
            deliveries,
            answers,
        )
    return result


async def retention_worker(app: FastAPI) -> None:
    """The app's background hook: a pass at startup, then one every interval."""
    settings = app.state.settings
    while True:
        try:
            await run_pass(
                app.state.database,
                import_retention=timedelta(days=settings.import_retention_days),
                dci_result_retention=timedelta(days=settings.dci_result_retention_days),
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # database away: the next pass tries again
            log.warning("retention pass failed: %s", exc)
        await asyncio.sleep(settings.retention_interval_seconds)
