"""Fixtures of the lead import tests: a dialer whose principal may read and write leads, uploads, and
workers run by the test."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterable
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import delete, insert, select

from dialer.lead_imports.testing import Expected, multipart_body, phone_number, streamed
from dialer.lead_imports.upload import receive
from dialer.lead_imports.worker import ImportWorker
from dialer.settings import Settings
from dialer.tables import lead_import_errors, lead_imports, leads
from dialer.testing import dialer_client, dialer_settings, principal
from dialplane.db import SessionFactory, transaction
from dialplane.runners import running

LEAD_SCOPES = ("leads:read", "leads:write")
MAX_LINE_BYTES = 2048
EXISTING = [phone_number(n) for n in range(1, 400, 7)]


@pytest.fixture
def settings(database_url: str) -> Settings:
    """The dialer's own worker sleeps (a long poll): tests run theirs (:func:`run_worker_until_finished`)."""
    return dialer_settings(
        database_url,
        import_poll_interval_seconds=60,
        import_max_line_bytes=MAX_LINE_BYTES,
        import_batch_size=1000,
    )


@pytest.fixture
def worker_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"import_poll_interval_seconds": 0.02, "import_lease_seconds": 30})


@pytest_asyncio.fixture
async def client(settings: Settings, sessions: SessionFactory) -> AsyncIterator[httpx.AsyncClient]:
    async with dialer_client(settings, who=principal(LEAD_SCOPES)) as client:
        yield client


async def upload(
    client: httpx.AsyncClient,
    content: bytes | Iterable[bytes],
    *,
    campaign_id: Any = None,
    filename: str = "leads.csv",
) -> httpx.Response:
    """POST the file as the ``file`` part of a multipart form (streamed)."""
    pieces = [content] if isinstance(content, bytes) else content
    content_type, body = multipart_body(pieces, campaign_id=campaign_id, filename=filename)
    return await client.post(
        "/api/v1/leads/import", content=streamed(body), headers={"Content-Type": content_type}
    )


async def import_id_of(response: httpx.Response) -> str:
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


async def wait_finished(sessions: SessionFactory, import_id: str, within: float = 60.0) -> str:
    """The import's status once it is completed or failed."""
    async with asyncio.timeout(within):
        while True:
            async with transaction(sessions) as session:
                status = await session.scalar(
                    select(lead_imports.c.status).where(lead_imports.c.id == import_id)
                )
            if status in ("completed", "failed"):
                return str(status)
            await asyncio.sleep(0.02)


async def run_worker_until_finished(
    sessions: SessionFactory, settings: Settings, import_id: str, within: float = 60.0
) -> str:
    async with running([ImportWorker(sessions, settings)]):
        return await wait_finished(sessions, import_id, within)


async def store_file(
    sessions: SessionFactory, pieces: Iterable[bytes], *, campaign_id: Any = None, max_line_bytes: int = 0
) -> str:
    """Store a file as the upload route does (no dialer running, so no worker of its own); its import id."""
    content_type, body = multipart_body(pieces, campaign_id=campaign_id)
    async with transaction(sessions) as session:
        job = await receive(
            session, principal(LEAD_SCOPES), streamed(body), content_type, max_line_bytes or MAX_LINE_BYTES
        )
    return str(job.id)


async def forget_leads(sessions: SessionFactory) -> list[str]:
    """No leads but a few whose phones the generated files use (rows with them merge); their phones."""
    async with transaction(sessions) as session:
        await session.execute(delete(leads))
        rows = [{"id": uuid.uuid4(), "phone": phone, "created_by": "test"} for phone in EXISTING]
        await session.execute(insert(leads), rows)
    return EXISTING


async def assert_exact(sessions: SessionFactory, import_id: str, expected: Expected) -> None:
    async with transaction(sessions) as session:
        job = (await session.execute(select(lead_imports).where(lead_imports.c.id == import_id))).one()
        query = (
            select(lead_import_errors.c.line, lead_import_errors.c.field, lead_import_errors.c.message)
            .where(lead_import_errors.c.import_id == import_id)
            .order_by(lead_import_errors.c.line, lead_import_errors.c.id)
        )
        errors = (await session.execute(query)).all()
        names = {row.phone: row.name for row in await session.execute(select(leads.c.phone, leads.c.name))}
    counts = (job.lines_done, job.rows_done, job.rows_created, job.rows_merged, job.rows_failed)
    assert counts == (expected.lines, expected.rows, expected.created, expected.merged, expected.failed)
    assert [(e.line, e.field) for e in errors] == [(e.line, e.field) for e in expected.errors]
    for error, wanted in zip(errors, expected.errors, strict=True):
        assert wanted.words in error.message, (error, wanted)
    assert {phone: names[phone] for phone in expected.last_name} == expected.last_name
    assert len(names) == len(EXISTING) + expected.created
    assert job.status == "completed"
