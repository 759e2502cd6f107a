"""Looking up lead import jobs and their error reports (receiving a file is :mod:`.upload`, importing it
:mod:`.importer`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from dialer.lead_imports import cursor, repository
from dialer.lead_imports.repository import ErrorRecord, ImportRecord
from dialplane.api.lead_imports import ListImportErrorsQuery
from dialplane.errors import NotFound


@dataclass(frozen=True, slots=True)
class ErrorPage:
    items: list[ErrorRecord]
    next_cursor: str | None


async def get(session: AsyncSession, import_id: uuid.UUID) -> ImportRecord:
    job = await repository.get(session, import_id)
    if job is None:
        raise NotFound(f"no lead import with id {import_id}", code="lead_import_not_found")
    return job


async def errors(session: AsyncSession, import_id: uuid.UUID, query: ListImportErrorsQuery) -> ErrorPage:
    """A page of the job's errors, by line."""
    after = cursor.decode(query.cursor) if query.cursor else None
    await get(session, import_id)
    found = await repository.list_errors(session, import_id, after, query.limit + 1)
    page, more = found[: query.limit], len(found) > query.limit
    return ErrorPage(page, cursor.encode(page[-1].line, page[-1].id) if more else None)
