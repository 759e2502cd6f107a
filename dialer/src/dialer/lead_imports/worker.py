"""The lead import worker: claims queued imports (or running ones whose lease expired) and imports them, one
at a time (:class:`~dialer.lead_imports.importer.ImportRun`).

Claims use ``FOR UPDATE SKIP LOCKED`` and a lease (``import_lease_seconds``, renewed with every batch), so
workers in several dialer processes share the imports, and one whose worker died is resumed by another once
its lease has expired. A worker asked to stop finishes its batch and hands its import back (``queued``).
"""

from __future__ import annotations

import os
import socket
import uuid

import structlog
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from dialer.lead_imports import repository
from dialer.lead_imports.importer import Claim, ImportRun
from dialer.lead_imports.writer import LeaseLostError
from dialer.settings import Settings
from dialplane.claiming import ClaimLoop
from dialplane.db import SessionFactory, transaction

log = structlog.get_logger(__name__)

INTERNAL_ERROR = "the import stopped on an internal error (see the dialer's log)"
_UNAVAILABLE = (OSError, OperationalError, InterfaceError, PoolTimeoutError, TimeoutError)


class ImportWorker:
    name = "lead-imports"

    def __init__(self, sessions: SessionFactory, settings: Settings) -> None:
        self._sessions = sessions
        self._settings = settings
        self._stopping = False
        self._worker_id = f"{socket.gethostname()}/{os.getpid()}/{uuid.uuid4().hex[:8]}"
        self._loop = ClaimLoop(
            self._claim,
            self._process,
            concurrency=1,
            poll_interval=settings.import_poll_interval_seconds,
        )

    def stop(self) -> None:
        self._stopping = True
        self._loop.stop()

    async def run(self) -> None:
        await self._loop.run()

    async def _claim(self, limit: int) -> list[Claim]:
        token = f"{self._worker_id}/{uuid.uuid4().hex[:8]}"
        try:
            async with transaction(self._sessions) as session:
                job = await repository.claim(session, token, self._settings.import_lease_seconds)
        except Exception:
            log.exception("lead_import_claim_failed")
            return []
        return [] if job is None else [Claim(job, token)]

    async def _process(self, claim: Claim) -> None:
        run = ImportRun(self._sessions, self._settings, claim, stopping=lambda: self._stopping)
        with structlog.contextvars.bound_contextvars(import_id=str(claim.job.id)):
            try:
                await run.run()
            except LeaseLostError:
                log.warning("lead_import_lease_lost")
            except Exception as exc:
                if _unavailable(exc):  # the lease expires; this worker or another resumes the import
                    log.warning("lead_import_interrupted", error=repr(exc))
                    return
                log.exception("lead_import_crashed")
                await _fail(run)


async def _fail(run: ImportRun) -> None:
    try:
        await run.fail(INTERNAL_ERROR)
    except Exception:
        log.exception("lead_import_not_marked_failed")


def _unavailable(exc: BaseException) -> bool:
    """The database could not be reached: worth resuming later, not a reason to fail the import."""
    return isinstance(exc, _UNAVAILABLE) or (isinstance(exc, DBAPIError) and exc.connection_invalidated)
