"""Workers die, stall and stop: an import is then taken over (once its lease has expired) or handed back,
and the end result is exactly that of an import that ran through: every count, every error once."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from dialer.lead_imports import repository
from dialer.lead_imports.importer import Claim, ImportRun
from dialer.lead_imports.testing import LeadFile
from dialer.lead_imports.worker import ImportWorker
from dialer.lead_imports.writer import LeaseLostError
from dialer.settings import Settings
from dialer.tables import lead_import_errors, lead_imports
from dialplane.db import SessionFactory, transaction
from dialplane.runners import running

from .conftest import MAX_LINE_BYTES, assert_exact, forget_leads, run_worker_until_finished, store_file


async def claim(sessions: SessionFactory, token: str, lease_seconds: float) -> Claim:
    async with transaction(sessions) as session:
        job = await repository.claim(session, token, lease_seconds)
    assert job is not None
    return Claim(job, token)


async def progress(sessions: SessionFactory, import_id: str) -> tuple[str, int, int, int]:
    """(status, lines_done, rows_done, errors stored)."""
    async with transaction(sessions) as session:
        job = (await session.execute(select(lead_imports).where(lead_imports.c.id == import_id))).one()
        errors = await session.scalar(
            select(func.count())
            .select_from(lead_import_errors)
            .where(lead_import_errors.c.import_id == import_id)
        )
    return job.status, job.lines_done, job.rows_done, int(errors or 0)


async def until_lines_done(sessions: SessionFactory, import_id: str, lines: int) -> None:
    async with asyncio.timeout(30):
        while (await progress(sessions, import_id))[1] < lines:
            await asyncio.sleep(0.005)


async def test_an_import_whose_worker_died_mid_batch_is_resumed_exactly_by_another(
    sessions: SessionFactory, worker_settings: Settings
) -> None:
    existing = await forget_leads(sessions)
    file = LeadFile(12_000, MAX_LINE_BYTES)
    import_id = await store_file(sessions, file.pieces())
    short_lease = worker_settings.model_copy(update={"import_lease_seconds": 0.3})
    dying = asyncio.create_task(ImportRun(sessions, short_lease, await claim(sessions, "first", 0.3)).run())

    await until_lines_done(sessions, import_id, 4_000)
    dying.cancel()
    with pytest.raises(asyncio.CancelledError):
        await dying
    status, lines_done, _, _ = await progress(sessions, import_id)
    assert status == "running" and 4_000 <= lines_done < file.expected().lines

    assert await run_worker_until_finished(sessions, worker_settings, import_id) == "completed"
    await assert_exact(sessions, import_id, file.expected(existing))


async def test_a_worker_whose_lease_was_taken_over_writes_nothing_more(
    sessions: SessionFactory, worker_settings: Settings
) -> None:
    existing = await forget_leads(sessions)
    file = LeadFile(5_000, MAX_LINE_BYTES)
    import_id = await store_file(sessions, file.pieces())
    stalled = await claim(sessions, "stalled", 0.05)
    await asyncio.sleep(0.1)

    assert await run_worker_until_finished(sessions, worker_settings, import_id) == "completed"
    finished = await progress(sessions, import_id)
    with pytest.raises(LeaseLostError):
        await ImportRun(sessions, worker_settings, stalled).run()

    assert await progress(sessions, import_id) == finished
    await assert_exact(sessions, import_id, file.expected(existing))


async def test_a_stopping_worker_hands_its_import_back_and_another_finishes_it(
    sessions: SessionFactory, worker_settings: Settings
) -> None:
    existing = await forget_leads(sessions)
    file = LeadFile(8_000, MAX_LINE_BYTES)
    import_id = await store_file(sessions, file.pieces())

    async with running([ImportWorker(sessions, worker_settings)]):
        await until_lines_done(sessions, import_id, 2_000)
    status, lines_done, _, _ = await progress(sessions, import_id)
    async with transaction(sessions) as session:
        claimed_by = await session.scalar(
            select(lead_imports.c.claimed_by).where(lead_imports.c.id == import_id)
        )

    assert (status, claimed_by) == ("queued", None) and 2_000 <= lines_done < file.expected().lines
    assert await run_worker_until_finished(sessions, worker_settings, import_id) == "completed"
    await assert_exact(sessions, import_id, file.expected(existing))
