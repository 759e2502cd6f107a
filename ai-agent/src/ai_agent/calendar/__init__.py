"""Calendars the agent books meetings in: the provider-neutral :class:`Calendar` protocol and its types
(:mod:`ai_agent.calendar.interface`), the booking rules (:mod:`~ai_agent.calendar.rules`) and the built-in
provider keeping meetings in PostgreSQL (:class:`BuiltinCalendar`). See docs/calendar.md."""

from ai_agent.calendar.builtin import BuiltinCalendar
from ai_agent.calendar.interface import (
    BLOCKING,
    TRANSITIONS,
    Attendee,
    Calendar,
    CalendarError,
    InvalidStatusChangeError,
    Meeting,
    MeetingNotFoundError,
    MeetingStatus,
    Slot,
    SlotUnavailableError,
    UnavailableReason,
)
from ai_agent.calendar.rules import Clock
from ai_agent.calendar.settings import CalendarSettings, Weekday, WorkingWindow, every_day, weekdays

__all__ = [
    "BLOCKING",
    "TRANSITIONS",
    "Attendee",
    "BuiltinCalendar",
    "Calendar",
    "CalendarError",
    "CalendarSettings",
    "Clock",
    "InvalidStatusChangeError",
    "Meeting",
    "MeetingNotFoundError",
    "MeetingStatus",
    "Slot",
    "SlotUnavailableError",
    "UnavailableReason",
    "Weekday",
    "WorkingWindow",
    "every_day",
    "weekdays",
]
