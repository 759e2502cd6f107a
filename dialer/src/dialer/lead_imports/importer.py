"""Importing one claimed lead file.

The stored chunks are read in order and parsed as they come (:mod:`dialer.lead_imports.csv_stream`); the
first record is the header, the rows after it are gathered into batches of ``import_batch_size`` rows, and
each batch is written in one transaction by a :class:`~dialer.lead_imports.writer.BatchWriter`, which also
advances ``lines_done`` and the counts. A worker that dies loses only the batch it had not stored; whoever
claims the job next reads from the start, drops the lines up to ``lines_done`` unread and goes on, so every
count and every error is written exactly once. The last batch also completes the job and deletes the file.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from dialer.lead_imports import repository
from dialer.lead_imports.batch import Batch
from dialer.lead_imports.columns import Columns, HeaderError
from dialer.lead_imports.csv_stream import CsvStream, Item, LineProblem
from dialer.lead_imports.repository import ImportRecord
from dialer.lead_imports.writer import BatchWriter
from dialer.settings import Settings
from dialplane.db import SessionFactory, transaction

log = structlog.get_logger(__name__)

YIELD_EVERY = 50  # rows read between two chances for the batch being written to go on


class _FileUnreadableError(Exception):
    """The file itself cannot be imported (the message says why); the job fails."""


class _StoppedError(Exception):
    """The worker is stopping; the job is handed back."""


@dataclass(frozen=True, slots=True)
class Claim:
    job: ImportRecord
    token: str


class ImportRun:
    """Imports the file of one claimed job (``run()``), from where its last stored batch ended."""

    def __init__(
        self,
        sessions: SessionFactory,
        settings: Settings,
        claim: Claim,
        *,
        stopping: Callable[[], bool] = lambda: False,
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self._job = claim.job
        self._stopping = stopping
        self._writer = BatchWriter(sessions, claim.job, claim.token, settings.import_lease_seconds)
        self._columns: Columns | None = None
        self._batch = Batch(last_line=claim.job.lines_done)

    async def run(self) -> None:
        """Raises :class:`~dialer.lead_imports.writer.LeaseLostError` if another worker took the job over."""
        log.info("lead_import_started", from_line=self._job.lines_done + 1, bytes=self._job.bytes_total)
        try:
            await self._import()
        except _FileUnreadableError as exc:
            await self._writer.fail(str(exc))
        except _StoppedError:
            await self._writer.release()
            log.info("lead_import_released", lines_done=self._batch.last_line)

    async def fail(self, error: str) -> None:
        await self._writer.fail(error)

    async def _import(self) -> None:
        try:
            await self._read_all()
        except asyncio.CancelledError:
            self._writer.cancel()
            raise
        except BaseException:
            await self._writer.settle()  # the batches before the problem are stored
            raise

    async def _read_all(self) -> None:
        stream = CsvStream(self._settings.import_max_line_bytes, skip_through=self._job.lines_done)
        for seq in range(self._job.chunks_total):
            stream.feed(await self._chunk(seq))
            await self._take(stream)
        stream.close()
        await self._take(stream)
        if self._columns is None:
            raise _FileUnreadableError("the file has no header line naming the columns")
        await self._writer.write(self._next_batch(), finish=True)

    async def _chunk(self, seq: int) -> bytes:
        async with transaction(self._sessions) as session:
            data = await repository.chunk(session, self._job.id, seq)
        if data is None:
            total = self._job.chunks_total
            raise _FileUnreadableError(f"part {seq + 1} of {total} of the stored file is missing")
        return data

    async def _take(self, stream: CsvStream) -> None:
        for count, item in enumerate(stream.items(), 1):
            if self._columns is None:
                self._columns = _header(item)
                self._batch.last_line = max(self._batch.last_line, item.last_line)
                continue
            self._batch.add(item, self._columns)
            if self._batch.rows >= self._settings.import_batch_size:
                await self._writer.write(self._next_batch())
                if self._stopping():
                    raise _StoppedError
            elif count % YIELD_EVERY == 0 and self._writer.busy:
                await asyncio.sleep(0)

    def _next_batch(self) -> Batch:
        """The batch read so far; a new one starts where it ends."""
        batch, self._batch = self._batch, Batch(last_line=self._batch.last_line)
        return batch


def _header(item: Item) -> Columns:
    if isinstance(item, LineProblem):
        raise _FileUnreadableError(f"the header (line 1) is {item.message}")
    try:
        return Columns.from_header(item.cells)
    except HeaderError as exc:
        raise _FileUnreadableError(str(exc)) from None
