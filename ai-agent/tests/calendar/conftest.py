"""Fixtures of the calendar tests: a settable clock and built-in calendars on the test database.

Calendars here use the "every day 08:00-20:00" profile in Europe/Berlin (so no test depends on the weekday
it runs), a 30-minute grid, a 10-minute buffer, 1 hour of notice and a 30-day horizon. The clock starts at
Monday 2026-06-15 09:00 Berlin time (07:00 UTC).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from ai_agent.calendar import BuiltinCalendar, CalendarSettings, every_day
from dialplane.db import SessionFactory

START = dt.datetime(2026, 6, 15, 7, 0, tzinfo=dt.UTC)


class FakeClock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def calendar_settings(**overrides: Any) -> CalendarSettings:
    values: dict[str, Any] = {
        "name": "sales",
        "time_zone": "Europe/Berlin",
        "working_hours": every_day("08:00-20:00"),
        "slot_length": dt.timedelta(minutes=30),
        "buffer": dt.timedelta(minutes=10),
        "minimum_notice": dt.timedelta(hours=1),
        "horizon": dt.timedelta(days=30),
        "link_template": "https://meet.example.com/{meeting_id}",
        **overrides,
    }
    return CalendarSettings(**values)


MakeCalendar = Callable[..., BuiltinCalendar]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def make_calendar(sessions: SessionFactory, clock: FakeClock) -> MakeCalendar:
    """``make_calendar(**settings_overrides)``: a calendar on the test database and the test clock."""

    def make(**overrides: Any) -> BuiltinCalendar:
        return BuiltinCalendar(sessions, calendar_settings(**overrides), clock=clock)

    return make


@pytest.fixture
def calendar(make_calendar: MakeCalendar) -> BuiltinCalendar:
    return make_calendar()
