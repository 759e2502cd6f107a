"""The CalDAV provider (RFC 4791): meetings kept in the ``meetings`` table like the built-in calendar's and
mirrored as events to a CalDAV calendar collection (Radicale, Nextcloud, Baïkal, …), whose other events are
busy time. Our own small client: httpx and icalendar.

Requests, all to the collection URL (which ends with ``/``) or to ``{collection}{meeting id}.ics``:

* busy time: ``REPORT`` ``calendar-query`` (``Depth: 1``) for the VEVENTs in a time range, recurrences
  expanded by the server (``<C:expand>``); read by :mod:`ai_agent.calendar.caldav_ical`;
* booking: ``PUT`` with ``If-None-Match: *`` (the iCalendar UID is the meeting's id, so a 412 can only be
  this booking's own earlier try that timed out on the way back);
* undoing a booking: ``DELETE`` (a 404 is fine);
* cancelling: ``GET``, then ``PUT`` of the event with ``STATUS:CANCELLED`` and ``If-Match`` its ETag, read
  again and retried if someone changed it meanwhile.

The double-booking guarantee stays the table's (see :mod:`ai_agent.calendar.builtin`); the server cannot
give one. Errors become :mod:`~ai_agent.calendar.caldav_http` errors; the password is never logged.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import httpx
import structlog
from pydantic import SecretStr

from ai_agent.calendar.builtin import BuiltinCalendar
from ai_agent.calendar.caldav_http import (
    CalendarServerError,
    HttpOptions,
    new_client,
    refusal,
    send,
    where,
)
from ai_agent.calendar.caldav_ical import busy_times, cancelled_document, event_document, is_cancelled
from ai_agent.calendar.interface import Meeting
from ai_agent.calendar.links import MeetingLinks
from ai_agent.calendar.rules import Busy, Clock, utc_now
from ai_agent.calendar.settings import CalendarSettings
from dialplane.db import SessionFactory

log = structlog.get_logger(__name__)

SERVICE = "The CalDAV server"
NAMESPACES = {"D": "DAV:", "C": "urn:ietf:params:xml:ns:caldav"}
ICALENDAR = "text/calendar; charset=utf-8"
CANCEL_ATTEMPTS = 3
AuthScheme = Literal["basic", "digest"]


class CaldavClient:
    """One CalDAV calendar collection, as the :class:`~ai_agent.calendar.builtin.RemoteCalendar` of a
    :class:`CaldavCalendar`. ``zone`` reads floating times and all-day events."""

    def __init__(
        self,
        url: str,
        *,
        username: str | None = None,
        password: SecretStr | None = None,
        auth: AuthScheme = "basic",
        zone: ZoneInfo | None = None,
        options: HttpOptions | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.url = url if url.endswith("/") else f"{url}/"
        self._zone = zone or ZoneInfo("UTC")
        self._options = options or HttpOptions()
        self._clock = clock
        self._client = new_client(self._options, transport, _auth(username, password, auth))

    def href(self, meeting_id: str) -> str:
        return f"{self.url}{meeting_id}.ics"

    async def busy(self, start: dt.datetime, end: dt.datetime) -> list[Busy]:
        busy: list[Busy] = []
        for href, document in await self.calendar_data(start, end):
            try:
                busy += busy_times([document], self._zone, start, end)
            except (ValueError, TypeError) as exc:
                problem = f"{SERVICE} sent an event Dialplane cannot read ({href}): {exc}"
                raise CalendarServerError(problem) from exc
        return sorted(busy, key=lambda interval: interval.start)

    async def calendar_data(self, start: dt.datetime, end: dt.datetime) -> list[tuple[str, str]]:
        """``(href, VCALENDAR text)`` of the collection's events overlapping ``[start, end)``."""
        headers = {"Depth": "1", "Content-Type": "application/xml; charset=utf-8"}
        request = self._client.build_request("REPORT", self.url, content=_query(start, end), headers=headers)
        response = await self._send(request)
        if response.status_code != 207:
            raise refusal(response, service=SERVICE, what="report the calendar's events")
        return _calendar_data(response)

    async def create(self, meeting: Meeting) -> str | None:
        document = event_document(meeting, stamp=self._clock())
        headers = {"If-None-Match": "*", "Content-Type": ICALENDAR}
        response = await self._send(
            self._client.build_request("PUT", self.href(meeting.id), content=document, headers=headers)
        )
        if response.status_code == 412:
            log.info("caldav_event_already_written", meeting_id=meeting.id)
        elif not response.is_success:
            raise refusal(response, service=SERVICE, what="write the meeting's event")
        return None

    async def delete(self, meeting: Meeting) -> None:
        response = await self._send(self._client.build_request("DELETE", self.href(meeting.id)))
        if not response.is_success and response.status_code != 404:
            raise refusal(response, service=SERVICE, what="delete the meeting's event")

    async def cancel(self, meeting: Meeting) -> None:
        href = self.href(meeting.id)
        for _ in range(CANCEL_ATTEMPTS):
            current = await self._send(self._client.build_request("GET", href))
            if current.status_code == 404:
                log.info("caldav_event_missing", meeting_id=meeting.id)
                return
            if current.status_code != 200:
                raise refusal(current, service=SERVICE, what="read the meeting's event")
            if await self._put_cancelled(current):
                return
        raise CalendarServerError(f"{SERVICE} kept changing the event while it was cancelled ({href})")

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _put_cancelled(self, current: httpx.Response) -> bool:
        """PUT the cancelled version of the event ``current`` holds; False if it changed meanwhile (412)."""
        try:
            if is_cancelled(current.content):
                return True
            document = cancelled_document(current.content, stamp=self._clock())
        except (ValueError, TypeError) as exc:
            problem = f"{SERVICE} holds an event Dialplane cannot read ({where(current.request)})"
            raise CalendarServerError(problem) from exc
        headers = {"Content-Type": ICALENDAR}
        if etag := current.headers.get("ETag"):
            headers["If-Match"] = etag
        request = self._client.build_request("PUT", current.request.url, content=document, headers=headers)
        response = await self._send(request)
        if response.status_code == 412:
            return False
        if not response.is_success:
            raise refusal(response, service=SERVICE, what="cancel the meeting's event")
        return True

    async def _send(self, request: httpx.Request) -> httpx.Response:
        return await send(self._client, request, service=SERVICE, options=self._options)


class CaldavCalendar(BuiltinCalendar):
    """A calendar whose meetings are kept in the ``meetings`` table and written to a CalDAV collection, and
    whose free slots also avoid the collection's other events."""

    def __init__(
        self,
        sessions: SessionFactory,
        settings: CalendarSettings,
        *,
        url: str,
        username: str | None = None,
        password: SecretStr | None = None,
        auth: AuthScheme = "basic",
        options: HttpOptions | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock = utc_now,
        links: MeetingLinks | None = None,
    ) -> None:
        self.client = CaldavClient(
            url, username=username, password=password, auth=auth, zone=settings.zone, options=options,
            transport=transport, clock=clock,
        )  # fmt: skip
        super().__init__(sessions, settings, clock=clock, links=links, remote=self.client)


def _auth(username: str | None, password: SecretStr | None, scheme: AuthScheme) -> httpx.Auth | None:
    if username is None:
        return None
    secret = password.get_secret_value() if password is not None else ""
    return httpx.DigestAuth(username, secret) if scheme == "digest" else httpx.BasicAuth(username, secret)


def _stamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def _query(start: dt.datetime, end: dt.datetime) -> bytes:
    """A calendar-query for the VEVENTs overlapping ``[start, end)``, recurrences expanded in that range."""
    span = f'start="{_stamp(start)}" end="{_stamp(end)}"'
    return f"""<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop><D:getetag/><C:calendar-data><C:expand {span}/></C:calendar-data></D:prop>
  <C:filter>
    <C:comp-filter name="VCALENDAR">
      <C:comp-filter name="VEVENT"><C:time-range {span}/></C:comp-filter>
    </C:comp-filter>
  </C:filter>
</C:calendar-query>
""".encode()


def _calendar_data(response: httpx.Response) -> list[tuple[str, str]]:
    """``(href, calendar-data)`` of each successful response in a 207 multistatus."""
    try:
        # expat >= 2.4 (Python's) refuses the entity-expansion attacks that S314 warns about
        root = ElementTree.fromstring(response.content)  # noqa: S314
    except ElementTree.ParseError as exc:
        problem = f"{SERVICE} sent a malformed multistatus ({where(response.request)})"
        raise CalendarServerError(problem) from exc
    found = []
    for item in root.iterfind("D:response", NAMESPACES):
        href = item.findtext("D:href", default="", namespaces=NAMESPACES)
        for propstat in item.iterfind("D:propstat", NAMESPACES):
            status = propstat.findtext("D:status", default="", namespaces=NAMESPACES).split()
            data = propstat.findtext("D:prop/C:calendar-data", default="", namespaces=NAMESPACES)
            if status[1:2] == ["200"] and data.strip():
                found.append((href, data))
    return found
