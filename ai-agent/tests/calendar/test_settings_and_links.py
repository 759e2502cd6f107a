"""Calendar settings validation, meeting link templates and the booking rules' wording (no database)."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from ai_agent.calendar import CalendarSettings, Slot, SlotUnavailableError, Weekday, WorkingWindow
from ai_agent.calendar.interface import TRANSITIONS, MeetingStatus, check_transition
from ai_agent.calendar.links import meeting_link, validate_link_template
from ai_agent.calendar.rules import Busy, clashes, in_words


def test_defaults_are_office_hours() -> None:
    settings = CalendarSettings()
    assert set(settings.working_hours) == {Weekday.MON, Weekday.TUE, Weekday.WED, Weekday.THU, Weekday.FRI}
    assert settings.working_hours[Weekday.MON] == (WorkingWindow(start=dt.time(9), end=dt.time(17)),)
    assert (settings.slot_length, settings.buffer) == (dt.timedelta(minutes=30), dt.timedelta(minutes=10))
    assert (settings.minimum_notice, settings.horizon) == (dt.timedelta(hours=1), dt.timedelta(days=30))
    assert settings.link_template == "https://meet.example.com/{meeting_id}"


def test_settings_from_plain_values() -> None:
    settings = CalendarSettings.model_validate(
        {
            "time_zone": "America/New_York",
            "working_hours": {
                "sat": ["13:00-17:00", "08:00 - 12:00"],
                "sun": [{"start": "10:00", "end": "11:00"}],
            },
            "slot_length": "PT15M",
            "buffer": 300,
            "minimum_notice": "02:00:00",
        }
    )
    assert [str(w) for w in settings.working_hours[Weekday.SAT]] == ["08:00-12:00", "13:00-17:00"]
    assert settings.windows_on(dt.date(2026, 6, 14)) == (WorkingWindow(start=dt.time(10), end=dt.time(11)),)
    assert settings.windows_on(dt.date(2026, 6, 15)) == ()
    assert settings.slot_length == dt.timedelta(minutes=15)
    assert settings.buffer == dt.timedelta(minutes=5)
    assert settings.minimum_notice == dt.timedelta(hours=2)


@pytest.mark.parametrize(
    "values",
    [
        {"time_zone": "Mars/Olympus"},
        {"time_zone": "Europe"},
        {"working_hours": {"mon": ["17:00-09:00"]}},
        {"working_hours": {"mon": ["9 to 5"]}},
        {"working_hours": {"mon": ["09:00-12:00", "11:00-14:00"]}},
        {"working_hours": {"monday": ["09:00-17:00"]}},
        {"slot_length": 0},
        {"horizon": -1},
        {"buffer": -60},
        {"link_template": "https://meet.example.com/{meeting}"},
        {"link_template": "meet.example.com/{meeting_id}"},
        {"name": ""},
    ],
)
def test_invalid_settings(values: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        CalendarSettings.model_validate(values)


def test_link_template() -> None:
    assert meeting_link("https://meet.example.com/{meeting_id}", meeting_id="abc", calendar="x") == (
        "https://meet.example.com/abc"
    )
    assert meeting_link(
        "https://m.example/{calendar}?id={meeting_id}", meeting_id="a/b", calendar="Sales Team"
    ) == ("https://m.example/Sales%20Team?id=a%2Fb")
    assert meeting_link(None, meeting_id="abc", calendar="x") is None


@pytest.mark.parametrize(
    "template",
    [
        "https://x.example/{",
        "https://x.example/{0}",
        "https://x.example/{}",
        "https://x.example/{meeting_id.hex}",
        "https://x.example/{meeting_id!r}",
        "https://x.example/{meeting_id:>40}",
        "ftp://x.example/{meeting_id}",
        "{meeting_id}",
    ],
)
def test_invalid_link_templates(template: str) -> None:
    with pytest.raises(ValueError):
        validate_link_template(template)


def test_static_link_is_allowed() -> None:
    validate_link_template("https://meet.example.com/team-room")


def test_clash_is_the_exclusion_constraint() -> None:
    """``[start, end + buffer)`` overlapping ``[busy.start, busy.until)``: one buffer between meetings."""
    ten, buffer, length = (
        dt.datetime(2026, 6, 16, 10, tzinfo=dt.UTC),
        dt.timedelta(minutes=10),
        dt.timedelta(minutes=30),
    )
    busy = Busy(ten, ten + length + buffer)  # 10:00-10:30, then its buffer until 10:40
    starts = [ten + dt.timedelta(minutes=m) for m in range(-60, 61)]
    free = [start for start in starts if not clashes(start, start + length, busy, buffer)]
    assert max(start for start in free if start < ten) == ten - dt.timedelta(minutes=40)  # ends 09:50
    assert min(start for start in free if start > ten) == ten + dt.timedelta(minutes=40)


def test_durations_in_words() -> None:
    assert in_words(dt.timedelta(hours=1)) == "1 hour"
    assert in_words(dt.timedelta(minutes=90)) == "90 minutes"
    assert in_words(dt.timedelta(days=30)) == "30 days"
    assert in_words(dt.timedelta(minutes=1)) == "1 minute"


def test_slots_refuse_naive_or_empty_intervals() -> None:
    with pytest.raises(ValueError, match="aware"):
        Slot(dt.datetime(2026, 6, 16, 10), dt.datetime(2026, 6, 16, 11))
    at = dt.datetime(2026, 6, 16, 10, tzinfo=dt.UTC)
    with pytest.raises(ValueError, match="end after"):
        Slot(at, at)


def test_transitions() -> None:
    for current, allowed in TRANSITIONS.items():
        check_transition(current, current)
        for status in allowed:
            check_transition(current, status)
    assert TRANSITIONS[MeetingStatus.CANCELLED] == frozenset()


def test_unavailable_error_from_a_plain_reason() -> None:
    error = SlotUnavailableError("taken")
    assert str(error) == "the requested time is already taken"
    assert error.extra == {"reason": "taken"}
