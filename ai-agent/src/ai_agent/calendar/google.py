"""The Google Calendar provider: meetings kept in the ``meetings`` table like the built-in calendar's and
mirrored as events to one Google calendar, whose other events are busy time (the table-first design of
:mod:`ai_agent.calendar.builtin`).

OAuth 2.0 with a refresh token (an installed or web app's offline grant, scope
``https://www.googleapis.com/auth/calendar`` or ``calendar.events`` + ``calendar.freebusy``):
``POST {token_url}`` with ``grant_type=refresh_token`` gives an access token, cached until shortly before
it expires and renewed once when the API answers 401. Requests (Calendar API v3):

* busy time: ``POST {api_url}/freeBusy`` for the calendar (Google leaves out transparent and cancelled
  events and expands recurrences);
* booking: ``POST {api_url}/calendars/{calendarId}/events`` with the event id = the meeting's UUID in hex
  (base32hex, as Google requires: a retry that finds it there, 409, is this booking's own earlier try),
  the attendee, the description and the link as location; with ``meet`` a Google Meet conference
  (``conferenceDataVersion=1``) whose link becomes the meeting's when it has none;
* undoing a booking: ``DELETE`` the event (404 and 410 are fine); cancelling: ``PATCH {"status":
  "cancelled"}``.

``sendUpdates`` (default ``none``) decides whether Google emails the attendee.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal
from urllib.parse import quote

import httpx
import structlog
from pydantic import SecretStr

from ai_agent.calendar.builtin import BuiltinCalendar
from ai_agent.calendar.caldav_http import (
    AccessTokens,
    CalendarServerError,
    CalendarUnavailableError,
    HttpOptions,
    json_body,
    new_client,
    refusal,
    send,
    send_authorized,
    token_from,
)
from ai_agent.calendar.caldav_ical import describe
from ai_agent.calendar.interface import Meeting
from ai_agent.calendar.links import MeetingLinks
from ai_agent.calendar.rules import Busy, Clock, utc_now
from ai_agent.calendar.settings import CalendarSettings
from dialplane.db import SessionFactory

log = structlog.get_logger(__name__)

TOKEN_URL = "https://oauth2.googleapis.com/token"  # noqa: S105 (a URL, not a password)
API_URL = "https://www.googleapis.com/calendar/v3"
SERVICE = "Google Calendar"
RATE_LIMITED = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
SendUpdates = Literal["none", "all", "externalOnly"]


class GoogleClient:
    """One Google calendar, as the :class:`~ai_agent.calendar.builtin.RemoteCalendar` of a
    :class:`GoogleCalendar`."""

    def __init__(
        self,
        calendar_id: str,
        *,
        client_id: str,
        client_secret: SecretStr,
        refresh_token: SecretStr,
        token_url: str = TOKEN_URL,
        api_url: str = API_URL,
        send_updates: SendUpdates = "none",
        meet: bool = False,
        options: HttpOptions | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.calendar_id = calendar_id
        self._client_id, self._client_secret, self._refresh_token = client_id, client_secret, refresh_token
        self._token_url, self._api_url = token_url, api_url.rstrip("/")
        self._send_updates, self._meet = send_updates, meet
        self._options = options or HttpOptions()
        self._client = new_client(self._options, transport)
        self._tokens = AccessTokens(self._fetch_token)

    async def busy(self, start: dt.datetime, end: dt.datetime) -> list[Busy]:
        query = {"timeMin": _rfc3339(start), "timeMax": _rfc3339(end), "timeZone": "UTC"}
        body = {**query, "items": [{"id": self.calendar_id}]}
        response = await self._api("POST", f"{self._api_url}/freeBusy", json=body)
        if response.status_code != 200:
            raise refusal(response, service=SERVICE, what="tell the calendar's busy time")
        calendar = json_body(response, service=SERVICE).get("calendars", {}).get(self.calendar_id, {})
        if errors := calendar.get("errors"):
            reasons = ", ".join(str(error.get("reason")) for error in errors)
            raise CalendarServerError(
                f"Google Calendar cannot tell the busy time of {self.calendar_id!r} ({reasons}): check the"
                " calendar id and that the account may see it"
            )
        try:
            return [Busy(_parse(b["start"]), _parse(b["end"])) for b in calendar.get("busy", [])]
        except (KeyError, TypeError, ValueError) as exc:
            raise CalendarServerError("Google Calendar sent malformed busy time") from exc

    async def create(self, meeting: Meeting) -> str | None:
        params = {"sendUpdates": self._send_updates} | ({"conferenceDataVersion": "1"} if self._meet else {})
        url = f"{self._api_url}/calendars/{quote(self.calendar_id, safe='')}/events"
        response = await self._api("POST", url, params=params, json=_event(meeting, meet=self._meet))
        if response.status_code == 409:  # this booking's earlier try, whose answer was lost, got through
            log.info("google_event_already_written", meeting_id=meeting.id)
            response = await self._api("GET", self._event_url(meeting))
        if response.status_code != 200:
            raise refusal(response, service=SERVICE, what="create the meeting's event")
        return _meet_link(json_body(response, service=SERVICE)) if self._meet else None

    async def delete(self, meeting: Meeting) -> None:
        params = {"sendUpdates": self._send_updates}
        response = await self._api("DELETE", self._event_url(meeting), params=params)
        if not response.is_success and response.status_code not in (404, 410):
            raise refusal(response, service=SERVICE, what="delete the meeting's event")

    async def cancel(self, meeting: Meeting) -> None:
        params, body = {"sendUpdates": self._send_updates}, {"status": "cancelled"}
        response = await self._api("PATCH", self._event_url(meeting), params=params, json=body)
        if response.status_code in (404, 410):
            log.info("google_event_missing", meeting_id=meeting.id)
        elif response.status_code != 200:
            raise refusal(response, service=SERVICE, what="cancel the meeting's event")

    async def aclose(self) -> None:
        await self._client.aclose()

    def _event_url(self, meeting: Meeting) -> str:
        calendar = quote(self.calendar_id, safe="")
        return f"{self._api_url}/calendars/{calendar}/events/{event_id(meeting.id)}"

    async def _api(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        def build(token: str) -> httpx.Request:
            headers = {"Authorization": f"Bearer {token}"}
            return self._client.build_request(method, url, headers=headers, **kwargs)

        response = await send_authorized(
            self._client, build, self._tokens, service=SERVICE, options=self._options
        )
        if response.status_code == 403 and _reasons(response) & RATE_LIMITED:
            raise CalendarUnavailableError("Google Calendar is limiting Dialplane's request rate (403)")
        return response

    async def _fetch_token(self) -> tuple[str, float]:
        form = {
            "grant_type": "refresh_token",
            "client_id": self._client_id,
            "client_secret": self._client_secret.get_secret_value(),
            "refresh_token": self._refresh_token.get_secret_value(),
        }
        request = self._client.build_request("POST", self._token_url, data=form)
        response = await send(self._client, request, service=SERVICE, options=self._options)
        return token_from(response, service=SERVICE)


class GoogleCalendar(BuiltinCalendar):
    """A calendar whose meetings are kept in the ``meetings`` table and written to a Google calendar, and
    whose free slots also avoid that calendar's busy time."""

    def __init__(
        self,
        sessions: SessionFactory,
        settings: CalendarSettings,
        *,
        calendar_id: str,
        client_id: str,
        client_secret: SecretStr,
        refresh_token: SecretStr,
        token_url: str = TOKEN_URL,
        api_url: str = API_URL,
        send_updates: SendUpdates = "none",
        meet: bool = False,
        options: HttpOptions | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock = utc_now,
        links: MeetingLinks | None = None,
    ) -> None:
        self.client = GoogleClient(
            calendar_id, client_id=client_id, client_secret=client_secret, refresh_token=refresh_token,
            token_url=token_url, api_url=api_url, send_updates=send_updates, meet=meet, options=options,
            transport=transport,
        )  # fmt: skip
        super().__init__(sessions, settings, clock=clock, links=links, remote=self.client)


def event_id(meeting_id: str) -> str:
    """The Google event id of a meeting: its UUID's 32 hex digits (within Google's base32hex alphabet)."""
    return uuid.UUID(meeting_id).hex


def _event(meeting: Meeting, *, meet: bool) -> dict[str, Any]:
    attendee = meeting.attendee
    event: dict[str, Any] = {
        "id": event_id(meeting.id),
        "summary": meeting.title,
        "description": describe(meeting),
        "start": {"dateTime": _rfc3339(meeting.start), "timeZone": meeting.time_zone},
        "end": {"dateTime": _rfc3339(meeting.end), "timeZone": meeting.time_zone},
        "status": "confirmed",
        "attendees": [{"email": attendee.email, "displayName": attendee.name}] if attendee.email else [],
        "extendedProperties": {"private": {"dialplaneMeetingId": meeting.id}},
    }
    if meeting.link:
        event["location"] = meeting.link
    if meet:
        key = {"type": "hangoutsMeet"}
        event["conferenceData"] = {"createRequest": {"requestId": meeting.id, "conferenceSolutionKey": key}}
    return event


def _meet_link(event: dict[str, Any]) -> str | None:
    if isinstance(link := event.get("hangoutLink"), str):
        return link
    for entry in event.get("conferenceData", {}).get("entryPoints", []):
        if entry.get("entryPointType") == "video" and isinstance(entry.get("uri"), str):
            return str(entry["uri"])
    return None  # the conference is still being created: Google adds it to the event later


def _reasons(response: httpx.Response) -> set[str]:
    try:
        errors = response.json()["error"]["errors"]
        return {str(error.get("reason")) for error in errors}
    except (ValueError, KeyError, TypeError):
        return set()


def _rfc3339(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _parse(value: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"a time without an offset: {value!r}")
    return parsed.astimezone(dt.UTC)
