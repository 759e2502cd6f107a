"""Free slots of the built-in calendar: working hours, notice, horizon, buffers, meetings, DST."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any
from zoneinfo import ZoneInfo

from ai_agent.calendar import Attendee, BuiltinCalendar, MeetingStatus, Slot, every_day, weekdays

BERLIN = ZoneInfo("Europe/Berlin")
ANNA = Attendee("Anna Test", "anna@example.com", "+4930123456")
MINUTES_30 = dt.timedelta(minutes=30)


def berlin(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=BERLIN)


def local_starts(slots: list[Slot]) -> list[str]:
    return [f"{slot.start.astimezone(BERLIN):%H:%M}" for slot in slots]


async def day(calendar: BuiltinCalendar, year: int, month: int, date: int, **kwargs: Any) -> list[Slot]:
    """The free slots of one local (Berlin) day."""
    return await calendar.availability(berlin(year, month, date), berlin(year, month, date + 1), **kwargs)


async def test_slots_fill_working_hours_on_the_grid(calendar: BuiltinCalendar) -> None:
    slots = await day(calendar, 2026, 6, 16)
    assert len(slots) == 24
    assert local_starts(slots)[:3] == ["08:00", "08:30", "09:00"]
    assert local_starts(slots)[-1] == "19:30"
    assert all(slot.duration == MINUTES_30 and slot.start.tzinfo == dt.UTC for slot in slots)


async def test_a_longer_duration_must_end_inside_working_hours(calendar: BuiltinCalendar) -> None:
    slots = await day(calendar, 2026, 6, 16, duration=dt.timedelta(hours=1))
    assert len(slots) == 23
    assert slots[-1].end.astimezone(BERLIN).time() == dt.time(20, 0)


async def test_only_slots_inside_the_requested_range(calendar: BuiltinCalendar) -> None:
    slots = await calendar.availability(berlin(2026, 6, 16, 10, 15), berlin(2026, 6, 16, 11, 30))
    assert local_starts(slots) == ["10:30", "11:00"]


async def test_minimum_notice(calendar: BuiltinCalendar, clock: Any) -> None:
    assert local_starts(await day(calendar, 2026, 6, 15))[0] == "10:00"  # now 09:00, 1 hour of notice
    clock.now = berlin(2026, 6, 15, 9, 10).astimezone(dt.UTC)
    assert local_starts(await day(calendar, 2026, 6, 15))[0] == "10:30"


async def test_no_slots_in_the_past(calendar: BuiltinCalendar) -> None:
    assert await day(calendar, 2026, 6, 14) == []


async def test_horizon(calendar: BuiltinCalendar, clock: Any) -> None:
    slots = await calendar.availability(clock.now, clock.now + dt.timedelta(days=40))
    assert slots[-1].start <= clock.now + dt.timedelta(days=30)
    assert slots[-1].start > clock.now + dt.timedelta(days=29)


async def test_office_hours_have_no_weekend(make_calendar: Any) -> None:
    calendar = make_calendar(working_hours=weekdays("09:00-17:00"))
    assert await day(calendar, 2026, 6, 20) == []  # Saturday
    assert local_starts(await day(calendar, 2026, 6, 19))[-1] == "16:30"  # Friday


async def test_several_windows_a_day(make_calendar: Any) -> None:
    calendar = make_calendar(working_hours={"tue": ["14:00-15:00", "09:00-10:00"]})
    assert local_starts(await day(calendar, 2026, 6, 16)) == ["09:00", "09:30", "14:00", "14:30"]


async def test_a_meeting_and_its_buffer_take_slots(calendar: BuiltinCalendar) -> None:
    await calendar.book(berlin(2026, 6, 16, 10), attendee=ANNA, title="Demo")
    starts = local_starts(await day(calendar, 2026, 6, 16))
    # 09:30 would end when the meeting starts (no buffer before it); 10:30 starts inside its buffer.
    assert {"09:30", "10:00", "10:30"}.isdisjoint(starts)
    assert {"09:00", "11:00"} <= set(starts)
    assert len(starts) == 21


async def test_without_a_buffer_adjacent_slots_stay_free(make_calendar: Any) -> None:
    calendar = make_calendar(buffer=dt.timedelta(0))
    await calendar.book(berlin(2026, 6, 16, 10), attendee=ANNA, title="Demo")
    starts = local_starts(await day(calendar, 2026, 6, 16))
    assert "10:00" not in starts
    assert {"09:30", "10:30"} <= set(starts)


async def test_a_meeting_of_the_previous_day_does_not_leak(calendar: BuiltinCalendar) -> None:
    await calendar.book(berlin(2026, 6, 16, 19, 30), attendee=ANNA, title="Late")
    assert len(await day(calendar, 2026, 6, 17)) == 24


async def test_other_calendars_do_not_block(calendar: BuiltinCalendar, make_calendar: Any) -> None:
    support = make_calendar(name="support")
    await support.book(berlin(2026, 6, 16, 10), attendee=ANNA, title="Support call")
    assert len(await day(calendar, 2026, 6, 16)) == 24
    assert len(await day(support, 2026, 6, 16)) == 21


async def test_a_cancelled_meeting_frees_its_slot(calendar: BuiltinCalendar) -> None:
    meeting = await calendar.book(berlin(2026, 6, 16, 10), attendee=ANNA, title="Demo")
    await calendar.set_status(meeting.id, MeetingStatus.CANCELLED)
    assert len(await day(calendar, 2026, 6, 16)) == 24


async def test_a_confirmed_meeting_keeps_its_slot(calendar: BuiltinCalendar) -> None:
    meeting = await calendar.book(berlin(2026, 6, 16, 10), attendee=ANNA, title="Demo")
    await calendar.set_status(meeting.id, MeetingStatus.CONFIRMED)
    assert "10:00" not in local_starts(await day(calendar, 2026, 6, 16))


async def test_across_the_spring_dst_change(calendar: BuiltinCalendar, clock: Any) -> None:
    clock.now = dt.datetime(2026, 3, 20, 12, tzinfo=dt.UTC)  # Berlin goes CET -> CEST on Sunday 29 March
    saturday, sunday = await day(calendar, 2026, 3, 28), await day(calendar, 2026, 3, 29)
    assert local_starts(saturday) == local_starts(sunday)
    assert len(sunday) == 24
    assert saturday[0].start == dt.datetime(2026, 3, 28, 7, tzinfo=dt.UTC)  # 08:00 CET
    assert sunday[0].start == dt.datetime(2026, 3, 29, 6, tzinfo=dt.UTC)  # 08:00 CEST


async def test_a_window_spanning_the_change_is_an_hour_shorter_or_longer(
    make_calendar: Any, clock: Any
) -> None:
    calendar = make_calendar(working_hours=every_day("01:00-04:00"), minimum_notice=dt.timedelta(0))
    clock.now = dt.datetime(2026, 3, 20, 12, tzinfo=dt.UTC)
    spring = await day(calendar, 2026, 3, 29)  # 02:00-03:00 does not exist
    assert local_starts(spring) == ["01:00", "01:30", "03:00", "03:30"]
    assert all(b.start - a.start == MINUTES_30 for a, b in itertools.pairwise(spring))
    clock.now = dt.datetime(2026, 10, 20, 12, tzinfo=dt.UTC)
    autumn = await day(calendar, 2026, 10, 25)  # 02:00-03:00 happens twice
    assert local_starts(autumn) == ["01:00", "01:30", "02:00", "02:30", "02:00", "02:30", "03:00", "03:30"]
    assert autumn[-1].end - autumn[0].start == dt.timedelta(hours=4)


async def test_a_booking_across_the_change_lasts_its_real_duration(make_calendar: Any, clock: Any) -> None:
    calendar = make_calendar(working_hours=every_day("01:00-04:00"), minimum_notice=dt.timedelta(0))
    clock.now = dt.datetime(2026, 3, 20, 12, tzinfo=dt.UTC)
    meeting = await calendar.book(
        berlin(2026, 3, 29, 1, 30), duration=dt.timedelta(hours=1), attendee=ANNA, title="x"
    )
    assert meeting.end - meeting.start == dt.timedelta(hours=1)
    assert meeting.end.astimezone(BERLIN).time() == dt.time(3, 30)
    assert (
        local_starts(await day(calendar, 2026, 3, 29)) == []
    )  # 01:00 ends inside it, 03:30 is in the buffer
