"""Calendars the agent books meetings in: the provider-neutral :class:`Calendar` protocol and its types
(:mod:`ai_agent.calendar.interface`), the booking rules (:mod:`~ai_agent.calendar.rules`), the built-in
provider keeping meetings in PostgreSQL (:class:`BuiltinCalendar`), the CalDAV and Google Calendar providers
built on it (:class:`CaldavCalendar`, :class:`GoogleCalendar`), meeting links (:class:`MeetingLinks`:
:class:`TemplateLinks`, :class:`ZoomLinks`), and calendars from configuration (:data:`CalendarConfig`,
:func:`build_calendars`). See docs/calendar.md."""

from ai_agent.calendar.builtin import BuiltinCalendar, RemoteCalendar
from ai_agent.calendar.caldav import CaldavCalendar
from ai_agent.calendar.caldav_http import (
    CalendarAuthError,
    CalendarServerError,
    CalendarUnavailableError,
    HttpOptions,
)
from ai_agent.calendar.google import GoogleCalendar
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
from ai_agent.calendar.links import MeetingLinks, TemplateLinks
from ai_agent.calendar.registry import CalendarConfig, build_calendars, close_calendars, default_calendars
from ai_agent.calendar.rules import Clock
from ai_agent.calendar.settings import CalendarSettings, Weekday, WorkingWindow, every_day, weekdays
from ai_agent.calendar.zoom import ZoomLinks

__all__ = [
    "BLOCKING",
    "TRANSITIONS",
    "Attendee",
    "BuiltinCalendar",
    "CaldavCalendar",
    "Calendar",
    "CalendarAuthError",
    "CalendarConfig",
    "CalendarError",
    "CalendarServerError",
    "CalendarSettings",
    "CalendarUnavailableError",
    "Clock",
    "GoogleCalendar",
    "HttpOptions",
    "InvalidStatusChangeError",
    "Meeting",
    "MeetingLinks",
    "MeetingNotFoundError",
    "MeetingStatus",
    "RemoteCalendar",
    "Slot",
    "SlotUnavailableError",
    "TemplateLinks",
    "UnavailableReason",
    "Weekday",
    "WorkingWindow",
    "ZoomLinks",
    "build_calendars",
    "close_calendars",
    "default_calendars",
    "every_day",
    "weekdays",
]
