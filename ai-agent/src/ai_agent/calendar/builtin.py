"""The built-in calendar: meetings in PostgreSQL (table ``meetings``), rules from :class:`CalendarSettings`.

Each call runs its own short transaction from the :class:`SessionFactory` (a tool call is the boundary), for
three reasons: the :class:`Calendar` protocol cannot carry a database session (a CalDAV provider has none);
a booking must be committed before the agent tells the caller it is booked; and a conversation must never
hold a transaction open across turns (long transactions hold back the event stream's readers).

Double booking is refused by the table's exclusion constraint, not by a read-then-write here: two calls
booking the same or overlapping times at the same moment both insert, the database lets one commit and
fails the other (``SlotUnavailableError("taken")``).
"""

from __future__ import annotations

import datetime as dt
import uuid

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ai_agent.calendar import repository
from ai_agent.calendar.interface import (
    Attendee,
    Meeting,
    MeetingNotFoundError,
    MeetingStatus,
    Slot,
    SlotUnavailableError,
    UnavailableReason,
    check_transition,
)
from ai_agent.calendar.links import meeting_link
from ai_agent.calendar.repository import NewMeeting
from ai_agent.calendar.rules import Clock, check_bookable, free_slots, utc, utc_now
from ai_agent.calendar.settings import CalendarSettings
from dialplane.db import SessionFactory, run_in_transaction, transaction

log = structlog.get_logger(__name__)


class BuiltinCalendar:
    """A :class:`~ai_agent.calendar.interface.Calendar` stored in PostgreSQL."""

    def __init__(
        self, sessions: SessionFactory, settings: CalendarSettings, *, clock: Clock = utc_now
    ) -> None:
        self._sessions = sessions
        self.settings = settings
        self._clock = clock

    @property
    def name(self) -> str:
        return self.settings.name

    @property
    def time_zone(self) -> str:
        return self.settings.time_zone

    def now(self) -> dt.datetime:
        return utc(self._clock(), "the clock's time")

    async def availability(
        self, start: dt.datetime, end: dt.datetime, *, duration: dt.timedelta | None = None
    ) -> list[Slot]:
        length = self._length(duration)
        start, end = utc(start, "start"), utc(end, "end")
        async with transaction(self._sessions) as session:
            busy = await repository.busy(session, self.name, start, end + self.settings.buffer)
        return free_slots(self.settings, self.now(), start, end, length, busy)

    async def book(
        self,
        start: dt.datetime,
        *,
        attendee: Attendee,
        title: str,
        duration: dt.timedelta | None = None,
        call_id: str | None = None,
        description: str | None = None,
    ) -> Meeting:
        start = utc(start, "start")
        end = start + self._length(duration)
        check_bookable(self.settings, self.now(), start, end)
        new = self._new_meeting(start, end, attendee, title, call_id, description)
        meeting = await self._insert(new)
        log.info("meeting_booked", calendar=self.name, meeting_id=meeting.id, call_id=call_id, start=start)
        return meeting

    async def get(self, meeting_id: str) -> Meeting:
        async with transaction(self._sessions) as session:
            return await self._get(session, meeting_id)

    async def set_status(self, meeting_id: str, status: MeetingStatus) -> Meeting:
        async def change(session: AsyncSession) -> Meeting:
            meeting = await self._get(session, meeting_id, lock=True)
            check_transition(meeting.status, status)
            if meeting.status == status:
                return meeting
            return await repository.set_status(session, uuid.UUID(meeting.id), status)

        meeting = await run_in_transaction(self._sessions, change)
        log.info("meeting_status_set", calendar=self.name, meeting_id=meeting.id, status=meeting.status.value)
        return meeting

    async def meetings(self, start: dt.datetime, end: dt.datetime) -> list[Meeting]:
        """Meetings of any status starting in ``[start, end)`` (not part of the protocol)."""
        async with transaction(self._sessions) as session:
            return await repository.between(session, self.name, utc(start, "start"), utc(end, "end"))

    async def meetings_for_call(self, call_id: str) -> list[Meeting]:
        """Meetings booked during a call, any status (not part of the protocol)."""
        async with transaction(self._sessions) as session:
            return await repository.for_call(session, self.name, call_id)

    def _length(self, duration: dt.timedelta | None) -> dt.timedelta:
        length = self.settings.slot_length if duration is None else duration
        if length <= dt.timedelta(0):
            raise ValueError(f"a meeting must last a positive time, got {length}")
        return length

    def _new_meeting(
        self,
        start: dt.datetime,
        end: dt.datetime,
        attendee: Attendee,
        title: str,
        call_id: str | None,
        description: str | None,
    ) -> NewMeeting:
        meeting_id = uuid.uuid4()
        link = meeting_link(self.settings.link_template, meeting_id=str(meeting_id), calendar=self.name)
        return NewMeeting(
            meeting_id, self.name, start, end, end + self.settings.buffer, attendee, title, description,
            link, call_id, self.time_zone,
        )  # fmt: skip

    async def _insert(self, new: NewMeeting) -> Meeting:
        try:
            return await run_in_transaction(self._sessions, lambda session: repository.insert(session, new))
        except IntegrityError as exc:
            if not repository.is_overlap(exc):
                raise
            log.info("meeting_slot_taken", calendar=self.name, call_id=new.call_id, start=new.start)
            raise SlotUnavailableError(UnavailableReason.TAKEN) from exc

    async def _get(self, session: AsyncSession, meeting_id: str, *, lock: bool = False) -> Meeting:
        try:
            key = uuid.UUID(meeting_id)
        except ValueError:
            raise MeetingNotFoundError(meeting_id) from None
        meeting = await repository.get(session, self.name, key, lock=lock)
        if meeting is None:
            raise MeetingNotFoundError(meeting_id)
        return meeting
