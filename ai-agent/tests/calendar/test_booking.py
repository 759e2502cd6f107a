"""Booking in the built-in calendar: the rules' refusals, no double booking (also concurrently), statuses."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from ai_agent.calendar import (
    Attendee,
    BuiltinCalendar,
    CalendarSettings,
    InvalidStatusChangeError,
    Meeting,
    MeetingNotFoundError,
    MeetingStatus,
    SlotUnavailableError,
    UnavailableReason,
    every_day,
    repository,
    weekdays,
)
from ai_agent.calendar.repository import NewMeeting
from dialplane.db import SessionFactory, transaction

BERLIN = ZoneInfo("Europe/Berlin")
ANNA = Attendee("Anna Test", "anna@example.com", "+4930123456")
BEN = Attendee("Ben Test", phone="+4930654321")


def berlin(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=BERLIN)


async def refusal(calendar: BuiltinCalendar, start: dt.datetime, **kwargs: Any) -> SlotUnavailableError:
    with pytest.raises(SlotUnavailableError) as caught:
        await calendar.book(start, attendee=ANNA, title="Demo", **kwargs)
    return caught.value


async def meeting_count(sessions: SessionFactory) -> int:
    async with transaction(sessions) as session:
        return int((await session.execute(text("SELECT count(*) FROM meetings"))).scalar_one())


async def test_book_a_free_slot(calendar: BuiltinCalendar) -> None:
    start = berlin(2026, 6, 16, 10)
    meeting = await calendar.book(
        start, attendee=ANNA, title="Demo", call_id="call-1", description="Wants the Pro plan"
    )
    assert meeting.start == start and meeting.start.tzinfo == dt.UTC
    assert meeting.end == start + dt.timedelta(minutes=30)
    assert meeting.status is MeetingStatus.SCHEDULED
    assert (meeting.calendar, meeting.attendee, meeting.title) == ("sales", ANNA, "Demo")
    assert (meeting.call_id, meeting.description, meeting.time_zone) == (
        "call-1",
        "Wants the Pro plan",
        "Europe/Berlin",
    )
    assert str(uuid.UUID(meeting.id)) == meeting.id
    assert await calendar.get(meeting.id) == meeting


async def test_book_with_a_duration(calendar: BuiltinCalendar) -> None:
    meeting = await calendar.book(
        berlin(2026, 6, 16, 10), attendee=BEN, title="Long", duration=dt.timedelta(minutes=45)
    )
    assert meeting.end - meeting.start == dt.timedelta(minutes=45)
    assert meeting.attendee.email is None


async def test_off_grid_times_may_be_booked(calendar: BuiltinCalendar) -> None:
    meeting = await calendar.book(berlin(2026, 6, 16, 10, 15), attendee=ANNA, title="Demo")
    assert meeting.start == berlin(2026, 6, 16, 10, 15)


async def test_in_the_past(calendar: BuiltinCalendar) -> None:
    assert (await refusal(calendar, berlin(2026, 6, 15, 8, 30))).reason is UnavailableReason.IN_THE_PAST


async def test_inside_the_minimum_notice(calendar: BuiltinCalendar) -> None:
    error = await refusal(calendar, berlin(2026, 6, 15, 9, 30))
    assert error.reason is UnavailableReason.TOO_SOON
    assert "1 hour" in error.detail


async def test_beyond_the_horizon(calendar: BuiltinCalendar) -> None:
    error = await refusal(calendar, berlin(2026, 7, 16, 10))
    assert error.reason is UnavailableReason.BEYOND_HORIZON
    assert "30 days" in error.detail


@pytest.mark.parametrize(
    ("start", "minutes"),
    [
        ((2026, 6, 16, 7, 30), 30),
        ((2026, 6, 16, 19, 45), 30),
        ((2026, 6, 16, 19, 0), 90),
        ((2026, 6, 16, 22), 30),
    ],
)
async def test_outside_working_hours(calendar: BuiltinCalendar, start: tuple[int, ...], minutes: int) -> None:
    error = await refusal(calendar, berlin(*start), duration=dt.timedelta(minutes=minutes))
    assert error.reason is UnavailableReason.OUTSIDE_WORKING_HOURS
    assert "08:00-20:00" in error.detail


async def test_no_working_hours_that_day(make_calendar: Any) -> None:
    error = await refusal(make_calendar(working_hours=weekdays("09:00-17:00")), berlin(2026, 6, 20, 10))
    assert error.reason is UnavailableReason.OUTSIDE_WORKING_HOURS
    assert "Saturday" in error.detail and "no working hours" in error.detail


async def test_refusals_carry_the_reason_for_problem_documents(calendar: BuiltinCalendar) -> None:
    error = await refusal(calendar, berlin(2026, 6, 15, 8))
    assert (error.status, error.code, error.extra) == (409, "slot_unavailable", {"reason": "in_the_past"})


@pytest.mark.parametrize(
    ("start", "taken"),
    [
        ((2026, 6, 16, 10, 0), True),  # the same slot
        ((2026, 6, 16, 10, 15), True),  # overlapping its second half
        ((2026, 6, 16, 9, 45), True),  # overlapping its first half
        ((2026, 6, 16, 9, 30), True),  # ending as it starts: its own buffer runs into it
        ((2026, 6, 16, 10, 35), True),  # inside its buffer
        ((2026, 6, 16, 9, 20), False),  # ends 09:50, buffer until 10:00
        ((2026, 6, 16, 10, 40), False),  # right after its buffer
    ],
)
async def test_overlaps_and_buffers(calendar: BuiltinCalendar, start: tuple[int, ...], taken: bool) -> None:
    await calendar.book(berlin(2026, 6, 16, 10), attendee=ANNA, title="First")
    if taken:
        assert (await refusal(calendar, berlin(*start))).reason is UnavailableReason.TAKEN
    else:
        await calendar.book(berlin(*start), attendee=BEN, title="Second")


async def test_two_calls_booking_the_same_slot_at_once(
    calendar: BuiltinCalendar, sessions: SessionFactory
) -> None:
    start = berlin(2026, 6, 16, 10)
    results = await asyncio.gather(
        calendar.book(start, attendee=ANNA, title="A", call_id="call-a"),
        calendar.book(start, attendee=BEN, title="B", call_id="call-b"),
        return_exceptions=True,
    )
    assert sum(isinstance(result, Meeting) for result in results) == 1
    refused = [result for result in results if not isinstance(result, Meeting)]
    assert len(refused) == 1 and isinstance(refused[0], SlotUnavailableError)
    assert refused[0].reason is UnavailableReason.TAKEN
    assert await meeting_count(sessions) == 1


async def test_many_calls_booking_overlapping_times_at_once(
    calendar: BuiltinCalendar, sessions: SessionFactory
) -> None:
    starts = [
        berlin(2026, 6, 16, 10) + dt.timedelta(minutes=5 * i) for i in range(8)
    ]  # all within 40 minutes
    results = await asyncio.gather(
        *(calendar.book(start, attendee=ANNA, title=f"#{i}") for i, start in enumerate(starts)),
        return_exceptions=True,
    )
    booked = [result for result in results if isinstance(result, Meeting)]
    assert len(booked) == 1
    assert all(
        isinstance(result, SlotUnavailableError) and result.reason is UnavailableReason.TAKEN
        for result in results
        if result not in booked
    )
    assert await meeting_count(sessions) == 1


def new_meeting(start: dt.datetime) -> NewMeeting:
    end = start + dt.timedelta(minutes=30)
    return NewMeeting(uuid.uuid4(), "sales", start, end, end, ANNA, "Demo", None, None, None, "UTC")


async def test_the_database_makes_a_concurrent_insert_wait_then_refuses_it(sessions: SessionFactory) -> None:
    """The guarantee itself: the second transaction blocks on the first and fails once it commits."""
    start = dt.datetime(2026, 6, 16, 8, tzinfo=dt.UTC)

    async def second() -> None:
        async with transaction(sessions) as session:
            await repository.insert(session, new_meeting(start + dt.timedelta(minutes=15)))

    async with sessions() as first:
        await first.begin()
        await repository.insert(first, new_meeting(start))
        blocked = asyncio.create_task(second())
        await asyncio.sleep(0.3)
        assert not blocked.done()
        await first.commit()
    with pytest.raises(IntegrityError) as caught:
        await blocked
    assert repository.is_overlap(caught.value)


async def test_status_changes(calendar: BuiltinCalendar) -> None:
    meeting = await calendar.book(berlin(2026, 6, 16, 10), attendee=ANNA, title="Demo")
    confirmed = await calendar.set_status(meeting.id, MeetingStatus.CONFIRMED)
    assert confirmed.status is MeetingStatus.CONFIRMED
    assert (await calendar.set_status(meeting.id, MeetingStatus.CONFIRMED)).status is MeetingStatus.CONFIRMED
    assert (await calendar.set_status(meeting.id, MeetingStatus.COMPLETED)).status is MeetingStatus.COMPLETED
    assert (await calendar.get(meeting.id)).status is MeetingStatus.COMPLETED
    with pytest.raises(InvalidStatusChangeError) as caught:
        await calendar.set_status(meeting.id, MeetingStatus.CANCELLED)
    assert caught.value.code == "invalid_status_change"


@pytest.mark.parametrize("final", [MeetingStatus.CANCELLED, MeetingStatus.NO_SHOW, MeetingStatus.COMPLETED])
async def test_final_statuses_are_final(calendar: BuiltinCalendar, final: MeetingStatus) -> None:
    meeting = await calendar.book(berlin(2026, 6, 16, 10), attendee=ANNA, title="Demo")
    await calendar.set_status(meeting.id, final)
    with pytest.raises(InvalidStatusChangeError):
        await calendar.set_status(meeting.id, MeetingStatus.SCHEDULED)


async def test_a_cancelled_slot_can_be_booked_again(calendar: BuiltinCalendar) -> None:
    start = berlin(2026, 6, 16, 10)
    first = await calendar.book(start, attendee=ANNA, title="Demo")
    await calendar.set_status(first.id, MeetingStatus.CANCELLED)
    second = await calendar.book(start, attendee=BEN, title="Demo")
    assert second.id != first.id
    assert (await calendar.get(first.id)).status is MeetingStatus.CANCELLED


@pytest.mark.parametrize("meeting_id", [str(uuid.uuid4()), "not-a-uuid", ""])
async def test_unknown_meeting(calendar: BuiltinCalendar, meeting_id: str) -> None:
    with pytest.raises(MeetingNotFoundError):
        await calendar.get(meeting_id)
    with pytest.raises(MeetingNotFoundError):
        await calendar.set_status(meeting_id, MeetingStatus.CANCELLED)


async def test_meetings_belong_to_their_calendar(calendar: BuiltinCalendar, make_calendar: Any) -> None:
    meeting = await calendar.book(berlin(2026, 6, 16, 10), attendee=ANNA, title="Demo")
    with pytest.raises(MeetingNotFoundError):
        await make_calendar(name="support").get(meeting.id)


async def test_listing_by_time_and_by_call(calendar: BuiltinCalendar) -> None:
    late = await calendar.book(berlin(2026, 6, 16, 15), attendee=ANNA, title="Late", call_id="call-1")
    early = await calendar.book(berlin(2026, 6, 16, 9), attendee=ANNA, title="Early", call_id="call-1")
    other = await calendar.book(berlin(2026, 6, 17, 9), attendee=BEN, title="Other", call_id="call-2")
    assert await calendar.meetings_for_call("call-1") == [early, late]
    assert await calendar.meetings(berlin(2026, 6, 16), berlin(2026, 6, 18)) == [early, late, other]
    assert await calendar.meetings(berlin(2026, 6, 17), berlin(2026, 6, 18)) == [other]


async def test_meeting_link_from_the_template(calendar: BuiltinCalendar) -> None:
    meeting = await calendar.book(berlin(2026, 6, 16, 10), attendee=ANNA, title="Demo")
    assert meeting.link == f"https://meet.example.com/{meeting.id}"


async def test_meeting_link_with_the_calendar_name(make_calendar: Any) -> None:
    calendar = make_calendar(
        name="sales team", link_template="https://meet.example.com/{calendar}/{meeting_id}"
    )
    meeting = await calendar.book(berlin(2026, 6, 16, 10), attendee=ANNA, title="Demo")
    assert meeting.link == f"https://meet.example.com/sales%20team/{meeting.id}"
    assert (await calendar.get(meeting.id)).link == meeting.link


async def test_no_link_without_a_template(make_calendar: Any) -> None:
    meeting = await make_calendar(link_template=None).book(
        berlin(2026, 6, 16, 10), attendee=ANNA, title="Demo"
    )
    assert meeting.link is None


async def test_naive_times_are_a_programming_error(calendar: BuiltinCalendar) -> None:
    with pytest.raises(ValueError, match="aware"):
        await calendar.book(dt.datetime(2026, 6, 16, 10), attendee=ANNA, title="Demo")
    with pytest.raises(ValueError, match="positive"):
        await calendar.book(berlin(2026, 6, 16, 10), attendee=ANNA, title="Demo", duration=dt.timedelta(0))


async def test_with_the_real_clock_on_any_day(sessions: SessionFactory) -> None:
    settings = CalendarSettings(
        name="sales", time_zone="Europe/Berlin", working_hours=every_day("08:00-20:00")
    )
    calendar = BuiltinCalendar(sessions, settings)  # and otherwise the default settings
    now = dt.datetime.now(dt.UTC)
    slots = await calendar.availability(now, now + dt.timedelta(days=2))
    assert slots and slots[0].start >= now + dt.timedelta(hours=1)
    meeting = await calendar.book(slots[0].start, attendee=ANNA, title="Demo")
    assert meeting.start == slots[0].start
    assert (await refusal(calendar, slots[0].start)).reason is UnavailableReason.TAKEN
