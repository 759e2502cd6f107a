"""The meetings API: meetings listed by start with filters and cursor pages, read one by one, and their
status changed through their calendar (a cancelled meeting's time can be booked again); bad input 4xx."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest

from ai_agent.calendar import Attendee, BuiltinCalendar, Meeting, MeetingStatus
from ai_agent.testing import fixed_calendar
from dialplane.db import SessionFactory

MEETINGS = "/api/v1/meetings"
DAY = dt.datetime(2026, 6, 16, tzinfo=dt.UTC)  # Tuesday; the calendars are open 06:00-18:00 UTC


async def book(calendar: BuiltinCalendar, hour: int, call_id: str | None = None, day: int = 0) -> Meeting:
    start = DAY + dt.timedelta(days=day, hours=hour)
    attendee = Attendee("Jane Doe", "jane@example.com", "+12025550100")
    return await calendar.book(start, attendee=attendee, title="Introductory call", call_id=call_id)


async def listed(client: httpx.AsyncClient, **params: Any) -> list[str]:
    response = await client.get(MEETINGS, params=params)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


async def test_meetings_are_listed_by_start_with_every_field(
    client: httpx.AsyncClient, calendars: dict[str, BuiltinCalendar]
) -> None:
    late = await book(calendars["default"], 14, call_id="call-1")
    early = await book(calendars["sales"], 8)

    response = await client.get(MEETINGS)

    assert response.status_code == 200
    body = response.json()
    assert [item["id"] for item in body["items"]] == [early.id, late.id] and body["next_cursor"] is None
    assert body["items"][1] == {
        "id": late.id,
        "calendar": "default",
        "start": "2026-06-16T14:00:00Z",
        "end": "2026-06-16T14:30:00Z",
        "status": "scheduled",
        "attendee": {"name": "Jane Doe", "email": "jane@example.com", "phone": "+12025550100"},
        "title": "Introductory call",
        "description": None,
        "link": f"https://meet.example.com/{late.id}",
        "call_id": "call-1",
        "time_zone": "Europe/Berlin",
        "created_at": body["items"][1]["created_at"],
    }


async def test_meetings_are_filtered_by_status_time_call_and_calendar(
    client: httpx.AsyncClient, calendars: dict[str, BuiltinCalendar]
) -> None:
    first = await book(calendars["default"], 8, call_id="call-1")
    second = await book(calendars["default"], 10, call_id="call-2")
    other = await book(calendars["sales"], 12, call_id="call-2")
    cancelled = await book(calendars["default"], 9, day=1)
    await calendars["default"].set_status(cancelled.id, MeetingStatus.CANCELLED)

    assert await listed(client, status="cancelled") == [cancelled.id]
    assert await listed(client, status=["scheduled", "cancelled"], calendar="default") == [
        first.id,
        second.id,
        cancelled.id,
    ]
    assert await listed(client, **{"from": "2026-06-16T10:00:00Z", "to": "2026-06-17T00:00:00Z"}) == [
        second.id,
        other.id,
    ]
    assert await listed(client, **{"from": "2026-06-16T12:00:00+02:00"}) == [
        second.id,
        other.id,
        cancelled.id,
    ]
    assert await listed(client, call_id="call-2") == [second.id, other.id]
    assert await listed(client, calendar="sales") == [other.id]
    assert await listed(client, calendar="nowhere") == []


async def test_pages_follow_the_cursor_to_the_end(
    client: httpx.AsyncClient, calendars: dict[str, BuiltinCalendar]
) -> None:
    booked = [(await book(calendars["default"], hour)).id for hour in (8, 9, 10, 11, 12)]
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get(MEETINGS, params=params)).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == booked


async def test_a_meeting_is_read_by_id(
    client: httpx.AsyncClient, calendars: dict[str, BuiltinCalendar]
) -> None:
    meeting = await book(calendars["sales"], 9)

    found = await client.get(f"{MEETINGS}/{meeting.id}")
    unknown = await client.get(f"{MEETINGS}/6f1c7f0e-51a3-4b8e-9f0e-2a8d0c6b3f11")
    not_ours = await client.get(f"{MEETINGS}/some-caldav-uid")

    assert (
        found.status_code == 200 and found.json()["id"] == meeting.id and found.json()["calendar"] == "sales"
    )
    assert unknown.status_code == not_ours.status_code == 404
    assert unknown.json()["code"] == not_ours.json()["code"] == "meeting_not_found"


async def test_a_status_change_goes_through_the_calendar(
    client: httpx.AsyncClient, calendars: dict[str, BuiltinCalendar]
) -> None:
    meeting = await book(calendars["default"], 9)

    confirmed = await client.patch(f"{MEETINGS}/{meeting.id}", json={"status": "confirmed"})
    same = await client.patch(f"{MEETINGS}/{meeting.id}", json={"status": "confirmed"})
    cancelled = await client.patch(f"{MEETINGS}/{meeting.id}", json={"status": "cancelled"})
    revived = await client.patch(f"{MEETINGS}/{meeting.id}", json={"status": "scheduled"})

    assert confirmed.status_code == same.status_code == cancelled.status_code == 200
    assert confirmed.json()["status"] == "confirmed" and cancelled.json()["status"] == "cancelled"
    assert revived.status_code == 409 and revived.json()["code"] == "invalid_status_change"
    assert (await client.get(f"{MEETINGS}/{meeting.id}")).json()["status"] == "cancelled"
    again = await book(calendars["default"], 9)  # the cancelled meeting's time is free again
    assert again.start == meeting.start


async def test_a_meeting_of_a_calendar_this_process_lacks_cannot_change(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    elsewhere = await book(fixed_calendar(sessions, "retired"), 9)

    response = await client.patch(f"{MEETINGS}/{elsewhere.id}", json={"status": "cancelled"})

    assert response.status_code == 409 and response.json()["code"] == "calendar_not_configured"
    assert (await client.get(f"{MEETINGS}/{elsewhere.id}")).json()["status"] == "scheduled"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "lost"}, "query.status.0"),
        ({"from": "yesterday"}, "query.from"),
        ({"from": "2026-06-16T10:00:00Z", "to": "2026-06-16T10:00:00Z"}, "query.to"),
        ({"limit": 0}, "query.limit"),
        ({"limit": 101}, "query.limit"),
        ({"cursor": "garbage"}, "query.cursor"),
        ({"cursor": "W10"}, "query.cursor"),
        ({"cursor": "x" * 201}, "query.cursor"),
        ({"call_id": ""}, "query.call_id"),
    ],
)
async def test_bad_list_queries_are_422_naming_the_parameter(
    client: httpx.AsyncClient, params: dict[str, Any], field: str
) -> None:
    response = await client.get(MEETINGS, params=params)
    assert response.status_code == 422, response.text
    assert field in [error["field"] for error in response.json()["errors"]]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"status": "postponed"}, 422, "validation_failed"),
        ({}, 422, "validation_failed"),
        ({"status": "cancelled", "start": "2026-06-16T10:00:00Z"}, 422, "validation_failed"),
    ],
)
async def test_bad_changes_are_refused(
    client: httpx.AsyncClient,
    calendars: dict[str, BuiltinCalendar],
    body: dict[str, Any],
    status: int,
    code: str,
) -> None:
    meeting = await book(calendars["default"], 9)
    response = await client.patch(f"{MEETINGS}/{meeting.id}", json=body)
    assert response.status_code == status and response.json()["code"] == code
    assert (await client.get(f"{MEETINGS}/{meeting.id}")).json()["status"] == "scheduled"


async def test_changing_an_unknown_meeting_is_404(client: httpx.AsyncClient) -> None:
    response = await client.patch(
        f"{MEETINGS}/6f1c7f0e-51a3-4b8e-9f0e-2a8d0c6b3f11", json={"status": "cancelled"}
    )
    assert response.status_code == 404 and response.json()["code"] == "meeting_not_found"
