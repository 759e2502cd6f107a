"""Meetings: list (filters, cursor pages), read, and change a status through the meeting's calendar.

Reads come from the ``meetings`` table (where the built-in calendar keeps them). A status change goes
through the :class:`~ai_agent.calendar.Calendar` of the meeting's calendar, which checks the transition and
frees the time of a cancelled meeting; its errors (404 ``meeting_not_found``, 409
``invalid_status_change``) are problem documents as they are.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from ai_agent.calendar import Calendar, Meeting, MeetingNotFoundError, MeetingStatus
from ai_agent.meetings_api import cursor, repository
from ai_agent.meetings_api.repository import MeetingFilter
from ai_agent.profiles.errors import invalid_field
from dialplane.api.meetings import ListMeetingsQuery
from dialplane.errors import Conflict

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class MeetingPage:
    items: list[Meeting]
    next_cursor: str | None


class MeetingService:
    def __init__(self, calendars: Mapping[str, Calendar]) -> None:
        self._calendars = calendars

    async def list_meetings(self, session: AsyncSession, query: ListMeetingsQuery) -> MeetingPage:
        if query.from_ is not None and query.to is not None and query.to <= query.from_:
            raise invalid_field("query.to", "must be later than from")
        where = MeetingFilter(
            statuses=query.status or (),
            start_from=query.from_,
            start_before=query.to,
            call_id=query.call_id,
            calendar=query.calendar,
            after=cursor.decode(query.cursor) if query.cursor else None,
        )
        meetings = await repository.list_meetings(session, where, query.limit + 1)
        page, more = meetings[: query.limit], len(meetings) > query.limit
        next_cursor = cursor.encode(page[-1].start, uuid.UUID(page[-1].id)) if more else None
        return MeetingPage(page, next_cursor)

    async def get(self, session: AsyncSession, meeting_id: str) -> Meeting:
        meeting = await find(session, meeting_id)
        if meeting is None:
            raise MeetingNotFoundError(meeting_id)
        return meeting

    async def set_status(self, session: AsyncSession, meeting_id: str, status: MeetingStatus) -> Meeting:
        """The meeting with its new status (setting the status it has is a no-op)."""
        meeting = await self.get(session, meeting_id)
        calendar = self._calendars.get(meeting.calendar)
        if calendar is None:
            raise Conflict(
                f"the meeting's calendar {meeting.calendar!r} is not configured in the ai-agent",
                code="calendar_not_configured",
            )
        changed = await calendar.set_status(meeting.id, status)
        log.info("meeting_status_changed", meeting_id=meeting.id, status=changed.status.value)
        return changed


async def find(session: AsyncSession, meeting_id: str | None) -> Meeting | None:
    """The meeting of that id in any calendar; ``None`` for an unknown id or one that is not ours."""
    try:
        key = uuid.UUID(meeting_id or "")
    except ValueError:
        return None
    return await repository.get(session, key)
