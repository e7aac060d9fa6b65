"""The DCI delivery worker: runs async searches and sends what we owe clients' endpoints
(on-search, on-subscribe, on-unsubscribe, txn-on-status callbacks and notify messages).

All its work is in the database (pending transactions, pending deliveries), claimed with
`FOR UPDATE SKIP LOCKED` and a lease, so several registry processes can run it, a crash
loses nothing (the lease expires and another worker takes over), and nothing is sent twice
while a lease holds. A delivery is retried with exponential backoff until the endpoint answers
2xx; a 4xx other than 408/425/429 is final, as is the last of MAX_ATTEMPTS. Notifications
of a subscription with a frequency wait for its fire time (`next_attempt_at`) and go out
together, one message for those due at that time (at most a claim's worth, 100, each).
Outbound calls go to http(s) URLs only (checked when the client gave them), with a timeout,
without following redirects.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import Any

import httpx

from services.registry.dci import repository as repo
from services.registry.dci import service
from services.registry.dci.envelope import now_iso
from shared.clock import Clock, using
from shared.db.engine import Database

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
BASE_BACKOFF_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 300.0
TIMEOUT_SECONDS = 5.0
POLL_SECONDS = 0.5
CONCURRENT_SENDS = 20  # with at most 100 claimed, 5 rounds of TIMEOUT_SECONDS fit in LEASE
LEASE = timedelta(seconds=60)
_RETRYABLE_4XX = {408, 425, 429}


def batches(due: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The claimed deliveries as messages to send: one each, except notifications sharing a
    `batch_key` (a subscription's fire time), which go together, in the order they were
    queued."""
    messages: dict[Any, list[dict[str, Any]]] = {}
    for row in due:
        messages.setdefault(row["batch_key"] or row["id"], []).append(row)
    return list(messages.values())


def joined(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """One notify message carrying the notify_event of every row (each row's own payload is a
    complete message with one); the header counts them and lists their events' ids."""
    if len(rows) == 1:
        return rows[0]["payload"]
    first = rows[0]["payload"]
    events = [event for row in rows for event in row["payload"]["message"]["notify_event"]]
    meta = dict(first["header"].get("meta") or {})
    meta.pop("event_id", None)
    meta["event_ids"] = [row["payload"]["header"].get("meta", {}).get("event_id") for row in rows]
    header = {
        **first["header"],
        "message_ts": now_iso(),
        "total_count": len(events),
        "completed_count": len(events),
        "meta": meta,
    }
    return {**first, "header": header, "message": {**first["message"], "notify_event": events}}


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(BASE_BACKOFF_SECONDS * 2 ** (attempts - 1), MAX_BACKOFF_SECONDS))


class DeliveryWorker:
    def __init__(
        self, database: Database, *, clock: Clock, poll_seconds: float = POLL_SECONDS
    ) -> None:
        self.database = database
        self.clock = clock  # what is due, and when to try again, is judged by the app's clock
        self.poll_seconds = poll_seconds
        self.wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._http: httpx.AsyncClient | None = None

    def start(self) -> None:
        self._http = httpx.AsyncClient(
            timeout=TIMEOUT_SECONDS,
            follow_redirects=False,
            headers={"content-type": "application/json", "user-agent": "kh-sp-registry-dci"},
        )
        with using(self.clock):
            self._task = asyncio.create_task(self._run(), name="dci-delivery")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._http is not None:
            await self._http.aclose()

    async def _run(self) -> None:
        while True:
            try:
                busy = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # database away: try again after a pause
                log.warning("DCI delivery pass failed: %s", exc)
                busy = False
            if not busy:
                self.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), self.poll_seconds)

    async def run_once(self) -> bool:
        """One pass; True when it found work (so the next pass starts at once)."""
        async with self.database.transaction() as session:
            searches = await repo.claim_pending_transactions(
                session, now=self.clock.now(), lease=LEASE
            )
        for transaction_id in searches:
            try:
                async with self.database.transaction() as session:
                    await service.run_async_search(session, transaction_id=transaction_id)
            except Exception:
                log.exception("async DCI search %s failed; retried after its lease", transaction_id)
        async with self.database.transaction() as session:
            due = await repo.claim_due_deliveries(session, now=self.clock.now(), lease=LEASE)
        if due:
            messages = batches(due)
            limit = asyncio.Semaphore(CONCURRENT_SENDS)
            outcomes = await asyncio.gather(*(self._send(m, limit) for m in messages))
            async with self.database.transaction() as session:
                for rows, (delivered, final, code, error) in zip(messages, outcomes, strict=True):
                    attempts = max(row["attempts"] for row in rows) + 1
                    retry_at = None
                    if not delivered and not final and attempts < MAX_ATTEMPTS:
                        retry_at = self.clock.now() + backoff(attempts)
                    for row in rows:
                        await repo.record_delivery_attempt(
                            session,
                            delivery_id=row["id"],
                            delivered=delivered,
                            attempts=attempts,
                            status_code=code,
                            error=error,
                            next_attempt_at=retry_at,
                            now=self.clock.now(),
                        )
        return bool(searches or due)

    async def _send(
        self, rows: list[dict[str, Any]], limit: asyncio.Semaphore
    ) -> tuple[bool, bool, int | None, str | None]:
        """(delivered, final failure, HTTP status, error)."""
        assert self._http is not None
        try:
            async with limit:
                response = await self._http.post(rows[0]["url"], json=joined(rows))
        except httpx.HTTPError as exc:
            return False, False, None, f"{type(exc).__name__}: {exc}"[:500]
        if 200 <= response.status_code < 300:
            return True, False, response.status_code, None
        final = 400 <= response.status_code < 500 and response.status_code not in _RETRYABLE_4XX
        return False, final, response.status_code, f"HTTP {response.status_code}"
