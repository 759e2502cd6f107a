"""Zoom meeting links (a :class:`~ai_agent.calendar.links.MeetingLinks`): a Zoom meeting per booking.

Server-to-Server OAuth: ``POST {oauth_url}?grant_type=account_credentials&account_id=…`` with the client's
id and secret in Basic authentication gives an access token (an hour), cached until shortly before it
expires and renewed once when the API answers 401. Then ``POST {api_url}/users/{user_id}/meetings`` with
``{topic, type: 2 (scheduled), start_time (UTC), duration (minutes), timezone}`` answers the meeting, whose
``join_url`` is the link.

When Zoom fails (refused credentials, outage, timeouts after the retries), :meth:`ZoomLinks.link` raises a
:class:`~ai_agent.calendar.caldav_http.CalendarServerError`, and the calendar keeps the booking without a
link (logged as ``meeting_link_failed``): the person on the phone has agreed on a time, and a link can be
sent later; failing the booking over a missing link would lose it.
"""

from __future__ import annotations

import base64
import datetime as dt
import math
from urllib.parse import quote

import httpx
from pydantic import SecretStr

from ai_agent.calendar.caldav_http import (
    AccessTokens,
    CalendarServerError,
    HttpOptions,
    json_body,
    new_client,
    refusal,
    send,
    send_authorized,
    token_from,
)
from ai_agent.calendar.interface import Meeting

OAUTH_URL = "https://zoom.us/oauth/token"
API_URL = "https://api.zoom.us/v2"
SERVICE = "Zoom"
SCHEDULED = 2  # Zoom's meeting type of a meeting at a fixed time


class ZoomLinks:
    """A Zoom meeting for each booked meeting, created as ``user_id`` (``me``: the app's account owner)."""

    def __init__(
        self,
        *,
        account_id: str,
        client_id: str,
        client_secret: SecretStr,
        user_id: str = "me",
        oauth_url: str = OAUTH_URL,
        api_url: str = API_URL,
        options: HttpOptions | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._account_id, self._client_id, self._secret = account_id, client_id, client_secret
        self._user_id = user_id
        self._oauth_url, self._api_url = oauth_url, api_url.rstrip("/")
        self._options = options or HttpOptions()
        self._client = new_client(self._options, transport)
        self._tokens = AccessTokens(self._fetch_token)

    async def link(self, meeting: Meeting) -> str | None:
        url = f"{self._api_url}/users/{quote(self._user_id, safe='')}/meetings"
        body = {
            "topic": meeting.title[:200],  # Zoom's limit
            "type": SCHEDULED,
            "start_time": meeting.start.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "duration": math.ceil((meeting.end - meeting.start).total_seconds() / 60),
            "timezone": meeting.time_zone,
        }

        def build(token: str) -> httpx.Request:
            headers = {"Authorization": f"Bearer {token}"}
            return self._client.build_request("POST", url, json=body, headers=headers)

        response = await send_authorized(
            self._client, build, self._tokens, service=SERVICE, options=self._options
        )
        if response.status_code != 201:
            raise refusal(response, service=SERVICE, what="create a meeting")
        join_url = json_body(response, service=SERVICE).get("join_url")
        if not isinstance(join_url, str) or not join_url:
            raise CalendarServerError("Zoom created a meeting without a join_url")
        return join_url

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _fetch_token(self) -> tuple[str, float]:
        params = {"grant_type": "account_credentials", "account_id": self._account_id}
        credentials = f"{self._client_id}:{self._secret.get_secret_value()}".encode()
        headers = {"Authorization": f"Basic {base64.b64encode(credentials).decode()}"}
        request = self._client.build_request("POST", self._oauth_url, params=params, headers=headers)
        response = await send(self._client, request, service=SERVICE, options=self._options)
        return token_from(response, service=SERVICE)
