"""Zoom meeting links against a local server speaking Zoom's wire protocol (Server-to-Server OAuth, meeting
creation): the link of a booking, token caching and renewal, and a booking kept without a link when Zoom
fails."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import SecretStr

from ai_agent.calendar import Attendee, BuiltinCalendar, CalendarSettings, every_day
from ai_agent.calendar.caldav_http import CalendarAuthError, CalendarUnavailableError, HttpOptions
from ai_agent.calendar.interface import Meeting, MeetingStatus
from ai_agent.calendar.testing import FakeZoom, serving_fake_zoom
from ai_agent.calendar.zoom import ZoomLinks
from dialplane.db import SessionFactory
from dialplane.testing.logs import captured_logs

BERLIN = ZoneInfo("Europe/Berlin")
ANNA = Attendee("Anna Test", "anna@example.com")
FAST = HttpOptions(timeout_seconds=2, attempts=2, backoff_seconds=0.01)
SETTINGS = CalendarSettings(name="sales", time_zone="Europe/Berlin", working_hours=every_day("08:00-20:00"))


def berlin(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=BERLIN)


@pytest.fixture
async def zoom() -> AsyncIterator[FakeZoom]:
    async with serving_fake_zoom() as fake:
        yield fake


MakeLinks = Callable[..., ZoomLinks]


@pytest.fixture
async def make_links(zoom: FakeZoom) -> AsyncIterator[MakeLinks]:
    made: list[ZoomLinks] = []

    def make(**overrides: Any) -> ZoomLinks:
        values: dict[str, Any] = {
            "account_id": zoom.account_id, "client_id": zoom.client_id,
            "client_secret": SecretStr(zoom.client_secret), "oauth_url": zoom.oauth_url,
            "api_url": zoom.api_url, "options": FAST, **overrides,
        }  # fmt: skip
        made.append(ZoomLinks(**values))
        return made[-1]

    yield make
    for links in made:
        await links.aclose()


@pytest.fixture
def calendar(sessions: SessionFactory, clock: Any, make_links: MakeLinks) -> BuiltinCalendar:
    return BuiltinCalendar(sessions, SETTINGS, clock=clock, links=make_links())


def a_meeting(minutes: int = 45) -> Meeting:
    start = berlin(2026, 6, 16, 10)
    return Meeting(
        "8d0f5a4e-5b5a-4f5e-9a53-6d1f2c3b4a59", "sales", start.astimezone(dt.UTC),
        (start + dt.timedelta(minutes=minutes)).astimezone(dt.UTC), MeetingStatus.SCHEDULED, ANNA, "Demo",
        None, None, start, time_zone="Europe/Berlin",
    )  # fmt: skip


async def test_a_booking_gets_a_zoom_link(calendar: BuiltinCalendar, zoom: FakeZoom) -> None:
    meeting = await calendar.book(berlin(2026, 6, 16, 10), attendee=ANNA, title="Demo")
    [created] = zoom.meetings
    assert meeting.link == created["join_url"] and (await calendar.get(meeting.id)).link == meeting.link
    assert {key: created[key] for key in ("topic", "type", "start_time", "duration", "timezone")} == {
        "topic": "Demo",
        "type": 2,
        "start_time": "2026-06-16T08:00:00Z",
        "duration": 30,
        "timezone": "Europe/Berlin",
    }


async def test_durations_round_up_to_minutes(make_links: MakeLinks, zoom: FakeZoom) -> None:
    await make_links().link(a_meeting(minutes=45))
    await make_links(user_id="host@example.com").link(a_meeting(minutes=46))
    assert [m["duration"] for m in zoom.meetings] == [45, 46]
    assert zoom.requests[-1] == ("POST", "/v2/users/host@example.com/meetings")


async def test_the_token_is_cached(make_links: MakeLinks, zoom: FakeZoom) -> None:
    links = make_links()
    for _ in range(3):
        assert await links.link(a_meeting())
    assert zoom.token_requests == 1


async def test_a_401_renews_the_token_once(make_links: MakeLinks, zoom: FakeZoom) -> None:
    links = make_links()
    await links.link(a_meeting())
    zoom.revoke_tokens()
    assert await links.link(a_meeting())
    assert zoom.token_requests == 2
    zoom.fail_next(401, 401)  # refused again after the renewal: no third token
    with pytest.raises(CalendarAuthError, match="401"):
        await links.link(a_meeting())
    assert zoom.token_requests == 3


async def test_wrong_credentials(make_links: MakeLinks) -> None:
    links = make_links(client_secret=SecretStr("not-the-secret"))
    with pytest.raises(CalendarAuthError, match="invalid_client") as refused:
        await links.link(a_meeting())
    assert "not-the-secret" not in refused.value.detail


async def test_a_failing_zoom_leaves_the_booking_without_a_link(
    sessions: SessionFactory, clock: Any, make_links: MakeLinks, zoom: FakeZoom
) -> None:
    calendar = BuiltinCalendar(sessions, SETTINGS, clock=clock, links=make_links())
    zoom.fail_next(502, 502)
    with captured_logs() as logs:
        meeting = await calendar.book(berlin(2026, 6, 16, 10), attendee=ANNA, title="Demo")
    assert meeting.link is None and (await calendar.get(meeting.id)).link is None
    [warning] = [line for line in logs.getvalue().splitlines() if "meeting_link_failed" in line]
    assert meeting.id in warning and "Zoom answered 502" in warning
    zoom.fail_next(502, 502)
    with pytest.raises(CalendarUnavailableError, match="2 attempts"):  # the failure, seen directly
        await make_links().link(a_meeting())
