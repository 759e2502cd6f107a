"""All SQL of the built-in calendar (table ``meetings``, migration 0007)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ai_agent.calendar.interface import Attendee, Meeting, MeetingStatus
from ai_agent.calendar.rules import Busy

OVERLAP_CONSTRAINT = "meetings_no_overlap"
EXCLUSION_VIOLATION = "23P01"

MEETING_COLUMNS = (
    "id, calendar, start_at, end_at, status, attendee_name, attendee_email, attendee_phone, title,"
    " description, link, call_id, time_zone, created_at"
)
# Must match the predicate of meetings_no_overlap (literally, so the planner can use its GiST index).
_HOLDS_TIME = "status IN ('scheduled', 'confirmed')"


@dataclass(frozen=True, slots=True)
class NewMeeting:
    id: uuid.UUID
    calendar: str
    start: dt.datetime
    end: dt.datetime
    blocked_until: dt.datetime  # end plus the calendar's buffer
    attendee: Attendee
    title: str
    description: str | None
    link: str | None
    call_id: str | None
    time_zone: str


def meeting_from_row(row: Any) -> Meeting:
    """A :class:`Meeting` from a row of :data:`MEETING_COLUMNS`."""
    values = row._mapping
    return Meeting(
        id=str(values["id"]),
        calendar=values["calendar"],
        start=values["start_at"],
        end=values["end_at"],
        status=MeetingStatus(values["status"]),
        attendee=Attendee(values["attendee_name"], values["attendee_email"], values["attendee_phone"]),
        title=values["title"],
        link=values["link"],
        call_id=values["call_id"],
        created_at=values["created_at"],
        description=values["description"],
        time_zone=values["time_zone"],
    )


def is_overlap(exc: IntegrityError) -> bool:
    """Whether ``exc`` is the exclusion constraint refusing a meeting over another's time."""
    orig = exc.orig
    return getattr(orig, "sqlstate", None) == EXCLUSION_VIOLATION and OVERLAP_CONSTRAINT in str(orig)


async def insert(session: AsyncSession, new: NewMeeting) -> Meeting:
    """Insert a scheduled meeting; raises ``IntegrityError`` (see :func:`is_overlap`) if its time is held."""
    query = text(
        f"""
        INSERT INTO meetings (id, calendar, start_at, end_at, blocked_until, status, attendee_name,
                              attendee_email, attendee_phone, title, description, link, call_id, time_zone)
        VALUES (:id, :calendar, :start, :end, :blocked_until, 'scheduled', :name, :email, :phone, :title,
                :description, :link, :call_id, :time_zone)
        RETURNING {MEETING_COLUMNS}
        """
    )
    values = {
        "id": new.id, "calendar": new.calendar, "start": new.start, "end": new.end,
        "blocked_until": new.blocked_until, "name": new.attendee.name, "email": new.attendee.email,
        "phone": new.attendee.phone, "title": new.title, "description": new.description,
        "link": new.link, "call_id": new.call_id, "time_zone": new.time_zone,
    }  # fmt: skip
    return meeting_from_row((await session.execute(query, values)).one())


async def get(
    session: AsyncSession, calendar: str, meeting_id: uuid.UUID, *, lock: bool = False
) -> Meeting | None:
    suffix = " FOR UPDATE" if lock else ""
    query = text(f"SELECT {MEETING_COLUMNS} FROM meetings WHERE id = :id AND calendar = :calendar{suffix}")
    row = (await session.execute(query, {"id": meeting_id, "calendar": calendar})).one_or_none()
    return None if row is None else meeting_from_row(row)


async def set_status(session: AsyncSession, meeting_id: uuid.UUID, status: MeetingStatus) -> Meeting:
    """Set the status (the caller checked the transition, holding the row's lock)."""
    query = text(
        f"UPDATE meetings SET status = :status, updated_at = clock_timestamp() WHERE id = :id"
        f" RETURNING {MEETING_COLUMNS}"
    )
    return meeting_from_row((await session.execute(query, {"id": meeting_id, "status": status.value})).one())


async def busy(session: AsyncSession, calendar: str, start: dt.datetime, end: dt.datetime) -> list[Busy]:
    """Time held by scheduled and confirmed meetings that overlaps ``[start, end)``."""
    query = text(
        f"""
        SELECT start_at, blocked_until FROM meetings
        WHERE calendar = :calendar AND {_HOLDS_TIME}
          AND tstzrange(start_at, blocked_until) && tstzrange(:start, :end)
        ORDER BY start_at
        """
    )
    rows = (await session.execute(query, {"calendar": calendar, "start": start, "end": end})).all()
    return [Busy(row.start_at, row.blocked_until) for row in rows]


async def between(
    session: AsyncSession, calendar: str, start: dt.datetime, end: dt.datetime
) -> list[Meeting]:
    """Meetings of any status starting in ``[start, end)``, by start."""
    query = text(
        f"SELECT {MEETING_COLUMNS} FROM meetings WHERE calendar = :calendar AND start_at >= :start"
        " AND start_at < :end ORDER BY start_at, id"
    )
    rows = (await session.execute(query, {"calendar": calendar, "start": start, "end": end})).all()
    return [meeting_from_row(row) for row in rows]


async def for_call(session: AsyncSession, calendar: str, call_id: str) -> list[Meeting]:
    """Meetings of any status booked during the call, by start."""
    query = text(
        f"SELECT {MEETING_COLUMNS} FROM meetings WHERE call_id = :call_id AND calendar = :calendar"
        " ORDER BY start_at, id"
    )
    rows = (await session.execute(query, {"calendar": calendar, "call_id": call_id})).all()
    return [meeting_from_row(row) for row in rows]


async def set_link(session: AsyncSession, meeting_id: uuid.UUID, link: str) -> Meeting:
    """Store the meeting's link (made after the insert: a video service may be slow or fail)."""
    query = text(
        "UPDATE meetings SET link = :link, updated_at = clock_timestamp() WHERE id = :id"
        f" RETURNING {MEETING_COLUMNS}"
    )
    return meeting_from_row((await session.execute(query, {"id": meeting_id, "link": link})).one())


async def delete(session: AsyncSession, meeting_id: uuid.UUID) -> None:
    """Remove a meeting whose booking is undone (its calendar server refused it)."""
    await session.execute(text("DELETE FROM meetings WHERE id = :id"), {"id": meeting_id})
