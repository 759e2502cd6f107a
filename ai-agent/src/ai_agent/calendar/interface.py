"""The provider-neutral calendar interface of the conversation.

The conversation (through its tools) talks to a :class:`Calendar` only: it asks for free slots, books one,
reads a meeting back and changes its status. A provider — the built-in one keeping meetings in PostgreSQL,
later a CalDAV server such as Radicale — translates its own storage into these types; nothing here knows
which one it is. Every time is an aware :class:`~datetime.datetime`; providers return them in UTC.

Errors a provider raises on purpose derive from :class:`CalendarError` (a ``DialplaneError``, so an HTTP
route may pass them on as problem documents): :class:`SlotUnavailableError` with an
:class:`UnavailableReason`, :class:`MeetingNotFoundError` and :class:`InvalidStatusChangeError`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from dialplane.errors import DialplaneError


class MeetingStatus(StrEnum):
    SCHEDULED = "scheduled"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    NO_SHOW = "no_show"


BLOCKING = frozenset({MeetingStatus.SCHEDULED, MeetingStatus.CONFIRMED})
"""Statuses whose meetings hold their slot; the others leave it free."""

TRANSITIONS: dict[MeetingStatus, frozenset[MeetingStatus]] = {
    MeetingStatus.SCHEDULED: frozenset(
        {MeetingStatus.CONFIRMED, MeetingStatus.CANCELLED, MeetingStatus.COMPLETED, MeetingStatus.NO_SHOW}
    ),
    MeetingStatus.CONFIRMED: frozenset(
        {MeetingStatus.CANCELLED, MeetingStatus.COMPLETED, MeetingStatus.NO_SHOW}
    ),
    MeetingStatus.CANCELLED: frozenset(),
    MeetingStatus.COMPLETED: frozenset(),
    MeetingStatus.NO_SHOW: frozenset(),
}
"""The status changes a meeting allows (setting its current status again is always a no-op). The last three
are final: a cancelled meeting is not revived, its attendee books again."""


def require_aware(value: dt.datetime, name: str) -> None:
    """Raise ``ValueError`` for a naive datetime (a programming error, not a refusal)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got {value!r}")


@dataclass(frozen=True, slots=True)
class Slot:
    """A free interval ``[start, end)``."""

    start: dt.datetime
    end: dt.datetime

    def __post_init__(self) -> None:
        require_aware(self.start, "start")
        require_aware(self.end, "end")
        if self.end <= self.start:
            raise ValueError(f"a slot must end after it starts: {self.start} .. {self.end}")

    @property
    def duration(self) -> dt.timedelta:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class Attendee:
    """Who the meeting is with. Treat ``email`` and ``phone`` as personal data: never log them at info."""

    name: str
    email: str | None = None
    phone: str | None = None  # E.164


@dataclass(frozen=True, slots=True)
class Meeting:
    id: str  # opaque to callers: a UUID for the built-in provider, an iCalendar UID for CalDAV
    calendar: str
    start: dt.datetime
    end: dt.datetime
    status: MeetingStatus
    attendee: Attendee
    title: str
    link: str | None  # where to meet (video link), when the calendar makes one
    call_id: str | None  # the call during which it was booked
    created_at: dt.datetime
    description: str | None = None
    time_zone: str = "UTC"  # the calendar's zone when it was booked: speak times in it

    @property
    def holds_slot(self) -> bool:
        return self.status in BLOCKING


class UnavailableReason(StrEnum):
    IN_THE_PAST = "in_the_past"
    TOO_SOON = "too_soon"  # inside the minimum notice
    BEYOND_HORIZON = "beyond_horizon"  # further ahead than the calendar books
    OUTSIDE_WORKING_HOURS = "outside_working_hours"
    TAKEN = "taken"  # overlaps another meeting, or its buffer


_REASON_DETAILS = {
    UnavailableReason.IN_THE_PAST: "the requested time is in the past",
    UnavailableReason.TOO_SOON: "the requested time is too soon to book",
    UnavailableReason.BEYOND_HORIZON: "the requested time is too far ahead to book",
    UnavailableReason.OUTSIDE_WORKING_HOURS: "the requested time is outside working hours",
    UnavailableReason.TAKEN: "the requested time is already taken",
}


class CalendarError(DialplaneError):
    """Base of the errors a calendar provider raises on purpose."""

    status, code, title = 500, "calendar_error", "Calendar error"


class SlotUnavailableError(CalendarError):
    """The meeting cannot be booked at that time; ``reason`` says why (``detail`` in words)."""

    status, code, title = 409, "slot_unavailable", "Slot unavailable"

    def __init__(self, reason: UnavailableReason | str, detail: str | None = None) -> None:
        self.reason = UnavailableReason(reason)
        super().__init__(detail or _REASON_DETAILS[self.reason], extra={"reason": self.reason.value})


class MeetingNotFoundError(CalendarError):
    status, code, title = 404, "meeting_not_found", "Meeting not found"

    def __init__(self, meeting_id: str) -> None:
        self.meeting_id = meeting_id
        super().__init__(f"no meeting {meeting_id!r} in this calendar")


class InvalidStatusChangeError(CalendarError):
    status, code, title = 409, "invalid_status_change", "Invalid status change"

    def __init__(self, current: MeetingStatus, requested: MeetingStatus) -> None:
        self.current, self.requested = current, requested
        super().__init__(f"a {current.value} meeting cannot become {requested.value}")


def check_transition(current: MeetingStatus, requested: MeetingStatus) -> None:
    """Raise :class:`InvalidStatusChangeError` unless ``current`` may become ``requested``."""
    if requested != current and requested not in TRANSITIONS[current]:
        raise InvalidStatusChangeError(current, requested)


class Calendar(Protocol):
    """One bookable calendar (one person's or one team's), whatever stores it."""

    @property
    def name(self) -> str: ...

    @property
    def time_zone(self) -> str:
        """The IANA zone of its working hours, in which times are best spoken to the attendee."""
        ...

    async def availability(
        self, start: dt.datetime, end: dt.datetime, *, duration: dt.timedelta | None = None
    ) -> list[Slot]:
        """Free slots of ``duration`` (default: the calendar's slot length) inside ``[start, end)``, in
        order: inside working hours, past the minimum notice, within the horizon, clear of other meetings
        and their buffers."""
        ...

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
        """Book a meeting (status ``scheduled``) or raise :class:`SlotUnavailableError`. Two bookings of the
        same or overlapping times, even at the same moment from two calls, never both succeed."""
        ...

    async def get(self, meeting_id: str) -> Meeting:
        """The meeting, or :class:`MeetingNotFoundError`."""
        ...

    async def set_status(self, meeting_id: str, status: MeetingStatus) -> Meeting:
        """Change the status (see :data:`TRANSITIONS`) and return the meeting; cancelling frees its slot.
        Raises :class:`MeetingNotFoundError` or :class:`InvalidStatusChangeError`."""
        ...
