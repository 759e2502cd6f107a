"""Writing what a worker imports, for one claimed job: each batch in ONE transaction — its leads (new phones
inserted, known ones given the fields the rows give), its errors, the campaign membership and the job's
progress with a renewed lease — after checking, under the job's row lock, that the job is still this
worker's (otherwise :class:`LeaseLostError`, and nothing is written).

Batches are written in order, one at a time, in a task of their own: while one is being written the worker
reads the next (:meth:`BatchWriter.write` returns once the previous batch is stored).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from dialer.lead_imports import metrics, repository
from dialer.lead_imports.batch import Batch
from dialer.lead_imports.repository import ImportRecord, Progress
from dialplane.db import SessionFactory, run_in_transaction, transaction

log = structlog.get_logger(__name__)


class LeaseLostError(Exception):
    """The job is no longer this worker's (its lease expired and another worker claimed it)."""


class BatchWriter:
    def __init__(self, sessions: SessionFactory, job: ImportRecord, token: str, lease_seconds: float) -> None:
        self._sessions = sessions
        self._job = job
        self._token = token
        self._lease_seconds = lease_seconds
        self._writing: asyncio.Task[None] | None = None

    @property
    def busy(self) -> bool:
        return self._writing is not None and not self._writing.done()

    async def write(self, batch: Batch, *, finish: bool = False) -> None:
        """Start writing ``batch`` (``finish``: the last one, which completes the job, and is awaited)."""
        await self.settle()
        self._writing = asyncio.create_task(self._commit(batch, finish))
        if finish:
            await self.settle()

    async def settle(self) -> None:
        """Wait for the batch being written (raises what its write raised)."""
        if self._writing is not None:
            writing, self._writing = self._writing, None
            await writing

    def cancel(self) -> None:
        """Abandon the batch being written (its transaction is rolled back)."""
        if self._writing is not None:
            self._writing.cancel()
            self._writing = None

    async def fail(self, error: str) -> None:
        """End the job as ``failed`` with ``error``."""
        await self.settle()
        async with transaction(self._sessions) as session:
            await self._lock(session)
            await repository.finish(session, self._job.id, error=error)
        metrics.IMPORTS.labels("failed").inc()
        log.warning("lead_import_failed", error=error)

    async def release(self) -> None:
        """Hand the job back (``queued``) for another worker to go on with."""
        await self.settle()
        async with transaction(self._sessions) as session:
            await repository.release(session, self._job.id, self._token)

    async def _commit(self, batch: Batch, finish: bool) -> None:
        started = time.perf_counter()

        async def work(session: AsyncSession) -> tuple[ImportRecord, Progress]:
            return await self._store(session, batch, finish)

        job, progress = await run_in_transaction(self._sessions, work)
        metrics.BATCH_DURATION.observe(time.perf_counter() - started)
        for result, rows in (
            ("created", progress.created),
            ("merged", progress.merged),
            ("failed", progress.failed),
        ):
            metrics.ROWS.labels(result).inc(rows)
        if finish:
            metrics.IMPORTS.labels("completed").inc()
            counts = {"rows": job.rows_done, "created": job.rows_created, "merged": job.rows_merged}
            log.info("lead_import_completed", failed=job.rows_failed, **counts)

    async def _store(
        self, session: AsyncSession, batch: Batch, finish: bool
    ) -> tuple[ImportRecord, Progress]:
        job = await self._lock(session)
        rows = [_json_row(given) for _, given in sorted(batch.leads.items())]  # in phone order: no deadlock
        created = await repository.insert_leads(session, rows, job.created_by, job.id) if rows else set()
        merging = [row for row in rows if row["phone"] not in created]
        if merging:
            await repository.merge_leads(session, merging)
        if job.campaign_id is not None and rows:
            await repository.join_campaign(session, job.campaign_id, [row["phone"] for row in rows])
        await repository.add_errors(session, job.id, batch.errors)
        progress = Progress(
            batch.last_line, batch.rows, len(created), batch.valid - len(created), batch.failed
        )
        stored = await repository.advance(session, job.id, progress, self._lease_seconds)
        if finish:
            await repository.finish(session, job.id)
        return stored, progress

    async def _lock(self, session: AsyncSession) -> ImportRecord:
        job = await repository.lock_claimed(session, self._job.id, self._token)
        if job is None:
            raise LeaseLostError
        return job


def _json_row(given: dict[str, Any]) -> dict[str, Any]:
    """A lead as one object of the batch's JSON parameter (absent keys: fields not given)."""
    row = {"id": str(uuid.uuid4()), **given}
    if isinstance(moment := row.get("consent_at"), dt.datetime):
        row["consent_at"] = moment.isoformat()
    return row
