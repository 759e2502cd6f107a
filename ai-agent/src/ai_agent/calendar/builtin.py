"""The built-in calendar: meetings in PostgreSQL (table ``meetings``), rules from :class:`CalendarSettings`.

Each call runs its own short transaction from the :class:`SessionFactory` (a tool call is the boundary), for
three reasons: the :class:`Calendar` protocol cannot carry a database session (a CalDAV provider has none);
a booking must be committed before the agent tells the caller it is booked; and a conversation must never
hold a transaction open across turns (long transactions hold back the event stream's readers).

Double booking is refused by the table's exclusion constraint, not by a read-then-write here: two calls
booking the same or overlapping times at the same moment both insert, the database lets one commit and
fails the other (``SlotUnavailableError("taken")``).

The same class is the engine of the providers backed by a calendar server (CalDAV, Google Calendar), given a
:class:`RemoteCalendar`: the table stays the record of Dialplane's meetings and keeps refusing double
booking; the server adds the busy time of everything else on it. A booking checks the server's busy time,
inserts the row (committed: the slot is held), gets the meeting link (:class:`MeetingLinks`; a link
service's failure leaves the meeting without a link), then writes the event to the server. If anything after
the insert fails, the booking is undone — the event deleted from the server if it got there, the row
deleted — and the error raised: a meeting is never left in one place only.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import uuid
from typing import Protocol

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ai_agent.calendar import repository
from ai_agent.calendar.interface import (
    Attendee,
    CalendarError,
    Meeting,
    MeetingNotFoundError,
    MeetingStatus,
    Slot,
    SlotUnavailableError,
    UnavailableReason,
    check_transition,
)
from ai_agent.calendar.links import MeetingLinks, TemplateLinks
from ai_agent.calendar.repository import NewMeeting
from ai_agent.calendar.rules import Busy, Clock, check_bookable, clashes, free_slots, utc, utc_now
from ai_agent.calendar.settings import CalendarSettings
from dialplane.db import SessionFactory, run_in_transaction, transaction

log = structlog.get_logger(__name__)


class RemoteCalendar(Protocol):
    """The calendar server a provider mirrors its meetings to. Failures raise ``CalendarError``\\ s."""

    async def busy(self, start: dt.datetime, end: dt.datetime) -> list[Busy]:
        """Busy time on the server overlapping ``[start, end)``: each event's own ``[start, end)``."""
        ...

    async def create(self, meeting: Meeting) -> str | None:
        """Write ``meeting`` (already in the table) to the server; return a link the server made for it
        (Google Meet), if any."""
        ...

    async def delete(self, meeting: Meeting) -> None:
        """Remove what :meth:`create` may have written (undoing a booking); nothing there is fine."""
        ...

    async def cancel(self, meeting: Meeting) -> None:
        """Mark the meeting's event cancelled on the server; nothing there is fine."""
        ...

    async def aclose(self) -> None: ...


class BuiltinCalendar:
    """A :class:`~ai_agent.calendar.interface.Calendar` stored in PostgreSQL."""

    def __init__(
        self,
        sessions: SessionFactory,
        settings: CalendarSettings,
        *,
        clock: Clock = utc_now,
        links: MeetingLinks | None = None,
        remote: RemoteCalendar | None = None,
    ) -> None:
        self._sessions = sessions
        self.settings = settings
        self._clock = clock
        self._links: MeetingLinks = links or TemplateLinks(settings.link_template)
        self._remote = remote

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
        now = self.now()
        async with transaction(self._sessions) as session:
            busy = await repository.busy(session, self.name, start, end + self.settings.buffer)
        # a server is asked about the time slots can take only: past the notice, within the horizon
        earliest = max(start, now + self.settings.minimum_notice)
        latest = min(end, now + self.settings.horizon + length)
        if earliest < latest:
            busy += await self._server_busy(earliest, latest)
        return free_slots(self.settings, now, start, end, length, busy)

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
        await self._check_server(start, end)
        new = self._new_meeting(start, end, attendee, title, call_id, description)
        meeting = await self._complete(await self._insert(new))
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
            if status is MeetingStatus.CANCELLED and self._remote is not None:
                await self._remote.cancel(meeting)  # under the row's lock: one change at a time
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

    async def aclose(self) -> None:
        """Close the link provider's and the server's connections (not part of the protocol)."""
        await self._links.aclose()
        if self._remote is not None:
            await self._remote.aclose()

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
        return NewMeeting(
            uuid.uuid4(), self.name, start, end, end + self.settings.buffer, attendee, title, description,
            None, call_id, self.time_zone,
        )  # fmt: skip

    async def _server_busy(self, start: dt.datetime, end: dt.datetime) -> list[Busy]:
        """The server's busy time that can clash with ``[start, end)``, each followed by the buffer like a
        meeting of ours."""
        if self._remote is None:
            return []
        buffer = self.settings.buffer
        events = await self._remote.busy(start - buffer, end + buffer)
        return [Busy(event.start, event.until + buffer) for event in events]

    async def _check_server(self, start: dt.datetime, end: dt.datetime) -> None:
        busy = await self._server_busy(start, end)
        if any(clashes(start, end, held, self.settings.buffer) for held in busy):
            log.info("meeting_slot_taken_on_server", calendar=self.name, start=start)
            raise SlotUnavailableError(UnavailableReason.TAKEN)

    async def _complete(self, meeting: Meeting) -> Meeting:
        """Give the inserted meeting its link and write it to the server; undo the booking if that fails."""
        try:
            link = await self._link(meeting)
            if self._remote is not None:
                made = await self._remote.create(dataclasses.replace(meeting, link=link))
                link = link or made
            if link is None:
                return meeting
            key = uuid.UUID(meeting.id)
            return await run_in_transaction(self._sessions, lambda s: repository.set_link(s, key, link))
        except BaseException:
            await asyncio.shield(self._undo(meeting))  # also when the booking task is cancelled
            raise

    async def _link(self, meeting: Meeting) -> str | None:
        try:
            return await self._links.link(meeting)
        except CalendarError as exc:
            log.warning("meeting_link_failed", calendar=self.name, meeting_id=meeting.id, error=exc.detail)
            return None

    async def _undo(self, meeting: Meeting) -> None:
        log.warning("meeting_booking_undone", calendar=self.name, meeting_id=meeting.id)
        if self._remote is not None:
            try:
                await self._remote.delete(meeting)
            except CalendarError as exc:  # the event may be there (a write that timed out): say so
                log.error("meeting_left_on_server", calendar=self.name, meeting_id=meeting.id, error=str(exc))
        key = uuid.UUID(meeting.id)
        try:
            await run_in_transaction(self._sessions, lambda session: repository.delete(session, key))
        except Exception as exc:  # the original error is the one to raise
            log.error("meeting_undo_failed", calendar=self.name, meeting_id=meeting.id, error=repr(exc))

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
