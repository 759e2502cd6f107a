"""The CalDAV provider against a real Radicale: events written and read back, other clients' events as busy
time, no double booking (also concurrently), cancelling, and the server's failures as clear errors."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Callable
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import icalendar
import pytest
from pydantic import SecretStr
from sqlalchemy import text

from ai_agent.calendar import (
    Attendee,
    CalendarSettings,
    Meeting,
    MeetingStatus,
    SlotUnavailableError,
    UnavailableReason,
    every_day,
)
from ai_agent.calendar import testing as calendar_testing
from ai_agent.calendar.caldav import CaldavCalendar, CaldavClient
from ai_agent.calendar.caldav_http import (
    CalendarAuthError,
    CalendarServerError,
    CalendarUnavailableError,
    HttpOptions,
)
from ai_agent.calendar.testing import RadicaleServer
from dialplane.db import SessionFactory, transaction
from dialplane.testing.http import free_port

radicale = calendar_testing.radicale  # the session's Radicale server (a fixture)

BERLIN = ZoneInfo("Europe/Berlin")
ANNA = Attendee("Anna Test", "anna@example.com", "+4930123456")
FAST = HttpOptions(timeout_seconds=2, attempts=2, backoff_seconds=0.01)
SETTINGS = CalendarSettings(name="sales", time_zone="Europe/Berlin", working_hours=every_day("08:00-20:00"))


def berlin(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=BERLIN)


def vevent(uid: str, *lines: str) -> str:
    body = "\n".join((f"UID:{uid}", "DTSTAMP:20260601T000000Z", "SUMMARY:Someone else's", *lines))
    event = f"BEGIN:VEVENT\n{body}\nEND:VEVENT\n"
    return f"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Test//EN\n{event}END:VCALENDAR\n"


MakeCaldav = Callable[..., CaldavCalendar]


@pytest.fixture
async def collection(radicale: RadicaleServer) -> str:
    return await radicale.new_calendar()


@pytest.fixture
async def make_caldav(
    sessions: SessionFactory, clock: Any, radicale: RadicaleServer, collection: str
) -> AsyncIterator[MakeCaldav]:
    made: list[CaldavCalendar] = []

    def make(**overrides: Any) -> CaldavCalendar:
        values: dict[str, Any] = {
            "url": collection, "username": radicale.username, "password": SecretStr(radicale.password or ""),
            "options": FAST, "clock": clock, **overrides,
        }  # fmt: skip
        made.append(CaldavCalendar(sessions, SETTINGS, **values))
        return made[-1]

    yield make
    for calendar in made:
        await calendar.aclose()


@pytest.fixture
def caldav(make_caldav: MakeCaldav) -> CaldavCalendar:
    return make_caldav()


async def server_event(radicale: RadicaleServer, collection: str, uid: str) -> icalendar.Event:
    document = await radicale.get_event(collection, uid)
    assert document is not None, f"no event {uid} on the server"
    [event] = icalendar.Calendar.from_ical(document).events
    return event


async def meeting_count(sessions: SessionFactory) -> int:
    async with transaction(sessions) as session:
        return int((await session.execute(text("SELECT count(*) FROM meetings"))).scalar_one())


async def test_booking_writes_the_event(
    caldav: CaldavCalendar, radicale: RadicaleServer, collection: str
) -> None:
    start = berlin(2026, 6, 16, 10)
    meeting = await caldav.book(start, attendee=ANNA, title="Demo", call_id="call-1", description="Pro plan")
    assert meeting.link == f"https://meet.example.com/{meeting.id}"
    assert await caldav.get(meeting.id) == meeting
    event = await server_event(radicale, collection, meeting.id)
    assert (event.uid, event.summary, event.status) == (meeting.id, "Demo", "CONFIRMED")
    assert (event.start, event.end) == (start, start + dt.timedelta(minutes=30))
    assert [str(a) for a in event.attendees] == ["mailto:anna@example.com"]
    assert event.attendees[0].params["CN"] == "Anna Test"
    assert event.location == meeting.link and event.url == meeting.link
    assert "Pro plan" in (event.description or "") and meeting.link in (event.description or "")


async def test_an_attendee_without_email_is_a_tel_address(
    caldav: CaldavCalendar, radicale: RadicaleServer, collection: str
) -> None:
    ben = Attendee("Ben Test", phone="+4930654321")
    meeting = await caldav.book(berlin(2026, 6, 16, 10), attendee=ben, title="Call back")
    event = await server_event(radicale, collection, meeting.id)
    assert [str(a) for a in event.attendees] == ["tel:+4930654321"]


async def test_someone_elses_event_takes_its_slots(
    caldav: CaldavCalendar, radicale: RadicaleServer, collection: str, sessions: SessionFactory
) -> None:
    times = ("DTSTART:20260616T080000Z", "DTEND:20260616T090000Z")  # 10:00-11:00 in Berlin
    await radicale.put_event(collection, "busy", vevent("busy", *times))
    slots = await caldav.availability(berlin(2026, 6, 16, 9), berlin(2026, 6, 16, 12, 30))
    # 10:00-11:00 is taken, and 10 minutes of buffer before and after it
    assert [s.start.astimezone(BERLIN).strftime("%H:%M") for s in slots] == ["09:00", "11:30", "12:00"]
    with pytest.raises(SlotUnavailableError) as refused:
        await caldav.book(berlin(2026, 6, 16, 10, 30), attendee=ANNA, title="Demo")
    assert refused.value.reason is UnavailableReason.TAKEN
    assert await meeting_count(sessions) == 0


async def test_events_that_do_not_block(
    caldav: CaldavCalendar, radicale: RadicaleServer, collection: str
) -> None:
    times = ("DTSTART:20260616T080000Z", "DTEND:20260616T090000Z")
    await radicale.put_event(collection, "free", vevent("free", *times, "TRANSP:TRANSPARENT"))
    await radicale.put_event(collection, "off", vevent("off", *times, "STATUS:CANCELLED"))
    slots = await caldav.availability(berlin(2026, 6, 16, 9), berlin(2026, 6, 16, 12))
    assert len(slots) == 6
    await caldav.book(berlin(2026, 6, 16, 10), attendee=ANNA, title="Demo")


async def test_all_day_zoned_and_recurring_events(
    caldav: CaldavCalendar, radicale: RadicaleServer, collection: str
) -> None:
    await radicale.put_event(collection, "holiday", vevent("holiday", "DTSTART;VALUE=DATE:20260617"))
    new_york = (
        "DTSTART;TZID=America/New_York:20260616T040000",
        "DTEND;TZID=America/New_York:20260616T050000",
    )
    await radicale.put_event(collection, "ny", vevent("ny", *new_york))  # 10:00-11:00 in Berlin
    daily = ("DTSTART;TZID=Europe/Berlin:20260601T150000", "DTEND;TZID=Europe/Berlin:20260601T160000")
    await radicale.put_event(collection, "daily", vevent("daily", *daily, "RRULE:FREQ=DAILY"))
    slots = await caldav.availability(berlin(2026, 6, 16, 0), berlin(2026, 6, 19, 0))
    local = {s.start.astimezone(BERLIN).strftime("%d %H:%M") for s in slots}
    assert not any(slot.startswith("17 ") for slot in local)  # the whole local day
    assert {"16 09:00", "16 11:30", "16 14:00", "16 16:30", "18 14:00", "18 16:30"} <= local
    assert not local & {"16 10:00", "16 10:30", "16 15:00", "16 15:30", "18 15:00", "18 14:30"}


async def test_concurrent_bookings_of_one_slot(
    make_caldav: MakeCaldav, radicale: RadicaleServer, collection: str
) -> None:
    first, second = make_caldav(), make_caldav()  # two calls' agents, each with its own client
    start = berlin(2026, 6, 16, 10)
    results = await asyncio.gather(
        first.book(start, attendee=ANNA, title="Demo"),
        second.book(start + dt.timedelta(minutes=15), attendee=ANNA, title="Demo"),
        return_exceptions=True,
    )
    booked = [r for r in results if isinstance(r, Meeting)]
    refused = [r for r in results if isinstance(r, SlotUnavailableError)]
    assert len(booked) == 1 and len(refused) == 1, results
    documents = await first.client.calendar_data(start - dt.timedelta(hours=1), start + dt.timedelta(hours=2))
    assert [href.rsplit("/", 1)[-1] for href, _ in documents] == [f"{booked[0].id}.ics"]


async def test_cancel_marks_the_event_and_frees_the_slot(
    caldav: CaldavCalendar, radicale: RadicaleServer, collection: str
) -> None:
    start = berlin(2026, 6, 16, 10)
    meeting = await caldav.book(start, attendee=ANNA, title="Demo")
    cancelled = await caldav.set_status(meeting.id, MeetingStatus.CANCELLED)
    assert cancelled.status is MeetingStatus.CANCELLED
    event = await server_event(radicale, collection, meeting.id)
    assert (event.status, event.sequence) == ("CANCELLED", 1)
    assert start in [s.start for s in await caldav.availability(start, start + dt.timedelta(hours=1))]
    await caldav.book(start, attendee=ANNA, title="Again")


async def test_other_statuses_leave_the_server_event(
    caldav: CaldavCalendar, radicale: RadicaleServer, collection: str
) -> None:
    meeting = await caldav.book(berlin(2026, 6, 16, 10), attendee=ANNA, title="Demo")
    await caldav.set_status(meeting.id, MeetingStatus.CONFIRMED)
    assert (await server_event(radicale, collection, meeting.id)).status == "CONFIRMED"


async def test_cancel_when_the_event_was_deleted_on_the_server(
    caldav: CaldavCalendar, radicale: RadicaleServer, collection: str
) -> None:
    meeting = await caldav.book(berlin(2026, 6, 16, 10), attendee=ANNA, title="Demo")
    async with httpx.AsyncClient(auth=radicale.auth) as client:
        (await client.delete(f"{collection}{meeting.id}.ics")).raise_for_status()
    assert (await caldav.set_status(meeting.id, MeetingStatus.CANCELLED)).status is MeetingStatus.CANCELLED


async def test_wrong_password(make_caldav: MakeCaldav, sessions: SessionFactory) -> None:
    caldav = make_caldav(password=SecretStr("not-the-password"))
    with pytest.raises(CalendarAuthError, match="refused the credentials") as refused:
        await caldav.book(berlin(2026, 6, 16, 10), attendee=ANNA, title="Demo")
    assert "401" in refused.value.detail and "not-the-password" not in refused.value.detail
    assert await meeting_count(sessions) == 0


async def test_no_such_collection(make_caldav: MakeCaldav, radicale: RadicaleServer) -> None:
    caldav = make_caldav(url=f"{radicale.url}{radicale.username}/no-such-calendar/")
    with pytest.raises(CalendarServerError, match="check the URL"):
        await caldav.availability(berlin(2026, 6, 16, 9), berlin(2026, 6, 16, 12))


async def test_server_down(make_caldav: MakeCaldav, sessions: SessionFactory) -> None:
    caldav = make_caldav(url=f"http://127.0.0.1:{free_port()}/dialplane/calendar/")
    with pytest.raises(CalendarUnavailableError, match="could not be reached") as refused:
        await caldav.book(berlin(2026, 6, 16, 10), attendee=ANNA, title="Demo")
    assert refused.value.status == 503 and "2 attempts" in refused.value.detail
    assert await meeting_count(sessions) == 0


class Faulty(httpx.AsyncBaseTransport):
    """Forwards to the real server, except the requests ``fault`` answers (or fails) itself."""

    def __init__(self, fault: Callable[[httpx.Request, int], httpx.Response | None]) -> None:
        self._real = httpx.AsyncHTTPTransport()
        self._fault = fault
        self.seen: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request.method)
        answer = self._fault(request, self.seen.count(request.method))
        return answer if answer is not None else await self._real.handle_async_request(request)


async def test_a_refused_put_undoes_the_booking(
    make_caldav: MakeCaldav, sessions: SessionFactory, radicale: RadicaleServer, collection: str
) -> None:
    transport = Faulty(lambda request, _: httpx.Response(507) if request.method == "PUT" else None)
    caldav = make_caldav(transport=transport)
    with pytest.raises(CalendarServerError, match="507"):
        await caldav.book(berlin(2026, 6, 16, 10), attendee=ANNA, title="Demo")
    assert await meeting_count(sessions) == 0
    assert await caldav.client.calendar_data(berlin(2026, 6, 16, 0), berlin(2026, 6, 17, 0)) == []


async def test_a_put_whose_answer_is_lost_is_deleted_again(
    make_caldav: MakeCaldav, sessions: SessionFactory, radicale: RadicaleServer, collection: str
) -> None:
    class LostAnswer(Faulty):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            response = await super().handle_async_request(request)
            if request.method == "PUT":
                raise httpx.ReadTimeout("the answer got lost", request=request)
            return response

    caldav = make_caldav(transport=LostAnswer(lambda request, n: None))
    with pytest.raises(CalendarUnavailableError, match="timed out"):
        await caldav.book(berlin(2026, 6, 16, 10), attendee=ANNA, title="Demo")
    assert await meeting_count(sessions) == 0
    assert await caldav.client.calendar_data(berlin(2026, 6, 16, 0), berlin(2026, 6, 17, 0)) == []


async def test_a_5xx_is_retried(make_caldav: MakeCaldav) -> None:
    first_report_fails = Faulty(lambda r, n: httpx.Response(503) if r.method == "REPORT" and n == 1 else None)
    caldav = make_caldav(transport=first_report_fails)
    assert len(await caldav.availability(berlin(2026, 6, 16, 9), berlin(2026, 6, 16, 10))) == 2
    assert first_report_fails.seen == ["REPORT", "REPORT"]


async def test_a_link_service_failure_keeps_the_booking(
    make_caldav: MakeCaldav, radicale: RadicaleServer, collection: str
) -> None:
    class BrokenLinks:
        async def link(self, meeting: Meeting) -> str | None:
            raise CalendarUnavailableError("Zoom timed out")

        async def aclose(self) -> None:
            return None

    caldav = make_caldav(links=BrokenLinks())
    meeting = await caldav.book(berlin(2026, 6, 16, 10), attendee=ANNA, title="Demo")
    assert meeting.link is None and (await caldav.get(meeting.id)).link is None
    assert (await server_event(radicale, collection, meeting.id)).location is None


def multistatus(*documents: str) -> httpx.MockTransport:
    """A server answering every REPORT with ``documents`` as calendar-data, unexpanded."""
    responses = "".join(
        f"<D:response><D:href>/c/{n}.ics</D:href><D:propstat><D:prop><C:calendar-data>{document}"
        "</C:calendar-data></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>"
        for n, document in enumerate(documents)
    )
    body = (
        f'<D:multistatus xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">{responses}</D:multistatus>'
    )
    return httpx.MockTransport(lambda request: httpx.Response(207, text=body))


async def test_recurrences_a_server_did_not_expand() -> None:
    weekly = vevent(
        "weekly",
        "DTSTART;TZID=Europe/Berlin:20260318T100000",  # Wednesdays 10:00 Berlin, across the DST change
        "DTEND;TZID=Europe/Berlin:20260318T110000",
        "RRULE:FREQ=WEEKLY;COUNT=4",
        "EXDATE;TZID=Europe/Berlin:20260401T100000",
    )
    moved = vevent(
        "weekly",
        "RECURRENCE-ID;TZID=Europe/Berlin:20260325T100000",
        "DTSTART;TZID=Europe/Berlin:20260325T140000",
        "DTEND;TZID=Europe/Berlin:20260325T150000",
    )
    together = weekly.replace("END:VCALENDAR\n", moved.split("PRODID:-//Test//EN\n", 1)[1])
    client = CaldavClient("https://dav.example.com/c/", zone=BERLIN, transport=multistatus(together))
    busy = await client.busy(berlin(2026, 3, 16), berlin(2026, 4, 30))
    await client.aclose()
    assert [(b.start.astimezone(BERLIN).strftime("%m-%d %H:%M"), b.until - b.start) for b in busy] == [
        ("03-18 10:00", dt.timedelta(hours=1)),
        ("03-25 14:00", dt.timedelta(hours=1)),  # the moved instance replaces the 10:00 one
        ("04-08 10:00", dt.timedelta(hours=1)),  # 04-01 excluded; still 10:00 local after the change
    ]


async def test_an_unreadable_event_is_a_clear_error() -> None:
    broken = vevent("broken", "DTEND:20260616T090000Z")  # no DTSTART
    client = CaldavClient("https://dav.example.com/c/", transport=multistatus(broken))
    with pytest.raises(CalendarServerError, match=r"cannot read \(/c/0.ics\)"):
        await client.busy(berlin(2026, 6, 16), berlin(2026, 6, 17))
    await client.aclose()
