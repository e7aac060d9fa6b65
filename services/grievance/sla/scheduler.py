"""The SLA scheduler: escalates grievances whose deadline passed, inside the service.

Every `interval` seconds one pass escalates all breached grievances, batch by batch (each
batch one short transaction, see `sla.repository`), then closes the resolved grievances
whose reopening period ended. Only one instance in the whole deployment
works at a time: a pass starts by taking a PostgreSQL advisory lock on its own connection
and skips when another replica holds it. Time comes from the injected clock, so tests move
the clock forward instead of waiting.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from services.grievance.sla import repository
from shared.clock import Clock
from shared.db.engine import Database

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PassResult:
    breached: int
    escalated: int
    batches: int
    seconds: float
    closed: int = 0


class SlaScheduler:
    def __init__(
        self,
        database: Database,
        clock: Clock,
        *,
        interval_seconds: float = 30.0,
        batch_size: int = 10_000,
    ) -> None:
        self.database = database
        self.clock = clock
        self.interval_seconds = interval_seconds
        self.batch_size = batch_size

    async def run_pass(self) -> PassResult | None:
        """Escalate everything due now; None when another instance holds the lock."""
        started = time.perf_counter()
        now = self.clock.now()
        breached = escalated = batches = closed = 0
        async with self.database.engine.connect() as connection:
            locked = await repository.try_lock(connection)
            await connection.commit()
            if not locked:
                return None
            try:
                while True:
                    async with connection.begin():
                        result = await repository.escalate_breached(
                            connection, now=now, batch=self.batch_size
                        )
                    batches += 1
                    breached += result.breached
                    escalated += result.escalated
                    if result.breached < self.batch_size:
                        break
                closed = await self._close_unreopened(connection, now)
            finally:
                await repository.unlock(connection)
                await connection.commit()
        outcome = PassResult(breached, escalated, batches, time.perf_counter() - started, closed)
        if breached or closed:
            log.info(
                "SLA pass: %d breached, %d escalated, %d closed in %.2fs",
                breached,
                escalated,
                closed,
                outcome.seconds,
            )
        return outcome

    async def _close_unreopened(self, connection, now) -> int:
        closed = 0
        while True:
            async with connection.begin():
                batch = await repository.close_unreopened(
                    connection, now=now, batch=self.batch_size
                )
            closed += batch
            if batch < self.batch_size:
                return closed

    async def run_forever(self) -> None:
        while True:
            try:
                await self.run_pass()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database may be away for a moment: try next time
                log.exception("SLA pass failed")
            await asyncio.sleep(self.interval_seconds)
