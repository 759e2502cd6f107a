"""The Google Calendar provider against a local server speaking Google's wire protocol (OAuth token
endpoint, Calendar API v3): events created and cancelled, busy time, token caching, failures."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import text

from ai_agent.calendar import (
    Attendee,
    CalendarSettings,
    MeetingStatus,
    SlotUnavailableError,
    UnavailableReason,
    every_day,
)
from ai_agent.calendar.caldav_http import (
    CalendarAuthError,
    CalendarServerError,
    CalendarUnavailableError,
    HttpOptions,
)
from ai_agent.calendar.google import GoogleCalendar, event_id
from ai_agent.calendar.testing import FakeGoogle, serving_fake_google
from dialplane.db import SessionFactory, transaction

BERLIN = ZoneInfo("Europe/Berlin")
ANNA = Attendee("Anna Test", "anna@example.com", "+4930123456")
FAST = HttpOptions(timeout_seconds=2, attempts=2, backoff_seconds=0.01)


def berlin(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=BERLIN)


@pytest.fixture
async def google() -> AsyncIterator[FakeGoogle]:
    async with serving_fake_google() as fake:
        yield fake


MakeGoogle = Callable[..., GoogleCalendar]


@pytest.fixture
async def make_google(sessions: SessionFactory, clock: Any, google: FakeGoogle) -> AsyncIterator[MakeGoogle]:
    made: list[GoogleCalendar] = []

    def make(settings: dict[str, Any] | None = None, **overrides: Any) -> GoogleCalendar:
        values: dict[str, Any] = {
            "calendar_id": google.calendar_id, "client_id": google.client_id,
            "client_secret": SecretStr(google.client_secret),
            "refresh_token": SecretStr(google.refresh_token),
            "token_url": google.token_url, "api_url": google.api_url, "options": FAST, "clock": clock,
            **overrides,
        }  # fmt: skip
        rules = CalendarSettings(
            name="sales",
            time_zone="Europe/Berlin",
            working_hours=every_day("08:00-20:00"),
            **(settings or {}),
        )
        made.append(GoogleCalendar(sessions, rules, **values))
        return made[-1]

    yield make
    for calendar in made:
        await calendar.aclose()


@pytest.fixture
def calendar(make_google: MakeGoogle) -> GoogleCalendar:
    return make_google()


async def meeting_count(sessions: SessionFactory) -> int:
    async with transaction(sessions) as session:
        return int((await session.execute(text("SELECT count(*) FROM meetings"))).scalar_one())


async def test_booking_creates_the_event(calendar: GoogleCalendar, google: FakeGoogle) -> None:
    start = berlin(2026, 6, 16, 10)
    meeting = await calendar.book(start, attendee=ANNA, title="Demo", description="Pro plan")
    event = google.events[event_id(meeting.id)]
    assert event_id(meeting.id) == meeting.id.replace("-", "")
    assert (event["summary"], event["status"], event["sendUpdates"]) == ("Demo", "confirmed", "none")
    assert event["start"] == {"dateTime": "2026-06-16T08:00:00Z", "timeZone": "Europe/Berlin"}
    assert event["end"] == {"dateTime": "2026-06-16T08:30:00Z", "timeZone": "Europe/Berlin"}
    assert event["attendees"] == [{"email": "anna@example.com", "displayName": "Anna Test"}]
    assert event["location"] == meeting.link == f"https://meet.example.com/{meeting.id}"
    assert "Pro plan" in event["description"] and meeting.link in event["description"]
    assert "conferenceData" not in event
    assert await calendar.get(meeting.id) == meeting


async def test_busy_time_on_google(
    calendar: GoogleCalendar, google: FakeGoogle, sessions: SessionFactory
) -> None:
    google.add_event(berlin(2026, 6, 16, 10), berlin(2026, 6, 16, 11))
    google.add_event(berlin(2026, 6, 16, 12), berlin(2026, 6, 16, 13), transparency="transparent")
    google.add_event(berlin(2026, 6, 16, 13), berlin(2026, 6, 16, 14), status="cancelled")
    slots = await calendar.availability(berlin(2026, 6, 16, 9), berlin(2026, 6, 16, 14))
    free = [s.start.astimezone(BERLIN).strftime("%H:%M") for s in slots]
    assert free == ["09:00", "11:30", "12:00", "12:30", "13:00", "13:30"]
    with pytest.raises(SlotUnavailableError) as refused:
        await calendar.book(berlin(2026, 6, 16, 10, 30), attendee=ANNA, title="Demo")
    assert refused.value.reason is UnavailableReason.TAKEN
    assert await meeting_count(sessions) == 0


async def test_the_access_token_is_cached_and_renewed_after_a_401(
    calendar: GoogleCalendar, google: FakeGoogle
) -> None:
    window = (berlin(2026, 6, 16, 9), berlin(2026, 6, 16, 12))
    await calendar.availability(*window)
    await calendar.book(berlin(2026, 6, 16, 10), attendee=ANNA, title="Demo")
    assert google.token_requests == 1
    google.revoke_tokens()
    assert len(await calendar.availability(*window)) == 3
    assert google.token_requests == 2
    assert google.requests[-2:] == [("POST", "/calendar/v3/freeBusy")] * 2


async def test_a_refused_refresh_token(make_google: MakeGoogle, sessions: SessionFactory) -> None:
    calendar = make_google(refresh_token=SecretStr("revoked-refresh-token"))
    with pytest.raises(CalendarAuthError, match="invalid_grant") as refused:
        await calendar.book(berlin(2026, 6, 16, 10), attendee=ANNA, title="Demo")
    assert "revoked-refresh-token" not in refused.value.detail
    assert await meeting_count(sessions) == 0


async def test_cancel(calendar: GoogleCalendar, google: FakeGoogle) -> None:
    start = berlin(2026, 6, 16, 10)
    meeting = await calendar.book(start, attendee=ANNA, title="Demo")
    await calendar.set_status(meeting.id, MeetingStatus.CANCELLED)
    assert google.events[event_id(meeting.id)]["status"] == "cancelled"
    assert (
        "PATCH",
        f"/calendar/v3/calendars/{google.calendar_id}/events/{event_id(meeting.id)}",
    ) in google.requests
    assert start in [s.start for s in await calendar.availability(start, start + dt.timedelta(hours=1))]
    await calendar.book(start, attendee=ANNA, title="Again")


async def test_google_meet_gives_the_link(make_google: MakeGoogle, google: FakeGoogle) -> None:
    calendar = make_google({"link_template": None}, meet=True)
    meeting = await calendar.book(berlin(2026, 6, 16, 10), attendee=ANNA, title="Demo")
    event = google.events[event_id(meeting.id)]
    assert meeting.link == event["hangoutLink"]
    assert event["hangoutLink"].startswith("https://meet.google.com/")
    request = event["conferenceData"]["createRequest"]
    assert request == {"requestId": meeting.id, "conferenceSolutionKey": {"type": "hangoutsMeet"}}
    assert (await calendar.get(meeting.id)).link == meeting.link


async def test_a_failed_create_undoes_the_booking(
    calendar: GoogleCalendar, google: FakeGoogle, sessions: SessionFactory
) -> None:
    google.fail_next(503, 503, on="/events")
    with pytest.raises(CalendarUnavailableError, match="503"):
        await calendar.book(berlin(2026, 6, 16, 10), attendee=ANNA, title="Demo")
    assert await meeting_count(sessions) == 0
    assert google.events == {}


async def test_a_forbidden_create_is_an_auth_error(
    calendar: GoogleCalendar, google: FakeGoogle, sessions: SessionFactory
) -> None:
    google.fail_next(403, on="POST /calendar/v3/calendars")
    with pytest.raises(CalendarAuthError, match="403"):
        await calendar.book(berlin(2026, 6, 16, 10), attendee=ANNA, title="Demo")
    assert await meeting_count(sessions) == 0


async def test_an_unknown_calendar(make_google: MakeGoogle) -> None:
    calendar = make_google(calendar_id="nobody@example.com")
    with pytest.raises(CalendarServerError, match="notFound"):
        await calendar.availability(berlin(2026, 6, 16, 9), berlin(2026, 6, 16, 12))


async def test_a_create_whose_answer_was_lost(make_google: MakeGoogle, google: FakeGoogle) -> None:
    class LoseFirstCreateAnswer(httpx.AsyncBaseTransport):
        def __init__(self) -> None:
            self.real, self.lost = httpx.AsyncHTTPTransport(), False

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            response = await self.real.handle_async_request(request)
            if request.url.path.endswith("/events") and not self.lost:
                self.lost = True
                raise httpx.ReadTimeout("lost", request=request)
            return response

    calendar = make_google(transport=LoseFirstCreateAnswer())
    meeting = await calendar.book(berlin(2026, 6, 16, 10), attendee=ANNA, title="Demo")
    assert list(google.events) == [event_id(meeting.id)]
    assert google.requests[-1] == (
        "GET",
        f"/calendar/v3/calendars/{google.calendar_id}/events/{event_id(meeting.id)}",
    )
