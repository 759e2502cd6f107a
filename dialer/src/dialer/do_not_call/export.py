"""Exporting a list as CSV, streamed a batch of entries at a time, in a transaction of its own (the response
is still being written after the route returned).

Cells are safe to open in a spreadsheet: one that starts with ``= + - @``, a tab or a CR gets a ``'`` in
front (OWASP's CSV injection advice), so every number reads ``'+12025550100``; the import takes it off again.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from collections.abc import AsyncIterator

from dialer.policy import do_not_call as repository
from dialer.policy.do_not_call import DoNotCallEntry
from dialplane.api.do_not_call import EXPORT_COLUMNS
from dialplane.db import SessionFactory, transaction

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str | dt.datetime | None) -> str:
    text = "" if value is None else value.isoformat() if isinstance(value, dt.datetime) else value
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _row(entry: DoNotCallEntry) -> list[str]:
    values = (entry.number, entry.match, entry.reason, entry.source, entry.created_at, entry.expires_at)
    return [safe_cell(value) for value in values]


def _csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode("utf-8")


async def export_csv(sessions: SessionFactory, campaign_id: uuid.UUID | None) -> AsyncIterator[bytes]:
    """The header, then the list's entries in force, newest first."""
    yield _csv([list(EXPORT_COLUMNS)])
    async with transaction(sessions) as session:
        async for entries in repository.in_force(session, campaign_id):
            yield _csv([_row(entry) for entry in entries])
