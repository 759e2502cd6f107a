"""The SQL of listing and reading meetings (table ``meetings``, migration 0007; the built-in calendar
writes it). Any calendar, any status."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ai_agent.calendar import Meeting
from ai_agent.calendar.repository import MEETING_COLUMNS, meeting_from_row


@dataclass(frozen=True, slots=True)
class MeetingFilter:
    statuses: Sequence[str] = ()
    start_from: dt.datetime | None = None  # starting at or after
    start_before: dt.datetime | None = None
    call_id: str | None = None
    calendar: str | None = None
    after: tuple[dt.datetime, uuid.UUID] | None = None  # the cursor: strictly after this position


_CONDITIONS = {
    "statuses": "status = ANY(:statuses)",
    "start_from": "start_at >= :start_from",
    "start_before": "start_at < :start_before",
    "call_id": "call_id = :call_id",
    "calendar": "calendar = :calendar",
}


async def list_meetings(session: AsyncSession, where: MeetingFilter, limit: int) -> list[Meeting]:
    """By start, earliest first (then ``id``)."""
    values: dict[str, Any] = {"limit": limit}
    for name in _CONDITIONS:
        value = getattr(where, name)
        if value is not None and value != ():
            values[name] = list(value) if name == "statuses" else value
    conditions = [_CONDITIONS[name] for name in values if name in _CONDITIONS]
    if where.after is not None:
        conditions.append("(start_at, id) > (:after_start, :after_id)")
        values.update(after_start=where.after[0], after_id=where.after[1])
    query = text(
        f"SELECT {MEETING_COLUMNS} FROM meetings WHERE {' AND '.join(conditions) or 'true'}"
        " ORDER BY start_at, id LIMIT :limit"
    )
    return [meeting_from_row(row) for row in (await session.execute(query, values)).all()]


async def get(session: AsyncSession, meeting_id: uuid.UUID) -> Meeting | None:
    query = text(f"SELECT {MEETING_COLUMNS} FROM meetings WHERE id = :id")
    row = (await session.execute(query, {"id": meeting_id})).one_or_none()
    return None if row is None else meeting_from_row(row)
