"""Test support for the calendar providers: a real Radicale (CalDAV) server, and local servers speaking the
wire protocols of Google Calendar (API v3 and Google's OAuth token endpoint) and of Zoom (Server-to-Server
OAuth and meeting creation) as far as Dialplane uses them::

    async with radicale_server(tmp_path) as radicale:        # or the session fixture ``radicale``
        calendar = CaldavCalendar(sessions, settings, url=radicale.calendar_url,
                                  username=radicale.username, password=SecretStr(radicale.password))

    async with serving_fake_google() as google:
        client = GoogleClient(google.calendar_id, client_id=google.client_id, ..., api_url=google.api_url)
        google.fail_next(503)          # the next API request is answered 503
        google.revoke_tokens()         # access tokens issued so far are refused (401)

Radicale runs as ``python -m radicale`` on a free port of 127.0.0.1 with its storage under the given
directory, htpasswd authentication (plain passwords) or none, and is stopped at the end of the block.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import itertools
import re
import secrets
import sys
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import pytest_asyncio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dialplane.testing.http import free_port, serving

__all__ = [
    "FakeGoogle",
    "FakeZoom",
    "RadicaleServer",
    "radicale",
    "radicale_server",
    "serving_fake_google",
    "serving_fake_zoom",
]

STARTUP_SECONDS = 20.0


@dataclass(frozen=True, slots=True)
class RadicaleServer:
    url: str  # the server's root, ending with "/"
    username: str | None  # None: no authentication
    password: str | None
    calendar_url: str  # a calendar collection made when the server started
    storage: Path
    log_file: Path

    @property
    def auth(self) -> tuple[str, str] | None:
        return None if self.username is None else (self.username, self.password or "")

    async def new_calendar(self, name: str | None = None) -> str:
        """Make another calendar collection (MKCALENDAR) and return its URL: one per test keeps tests
        apart."""
        name = name or f"calendar-{secrets.token_hex(4)}"
        return await _mkcalendar(self.url, self.username, self.auth, name)

    async def put_event(self, calendar_url: str, uid: str, ics: str) -> None:
        """Put an event on the server as another CalDAV client would (someone else's meeting)."""
        headers = {"Content-Type": "text/calendar; charset=utf-8"}
        async with httpx.AsyncClient(auth=self.auth, timeout=10) as client:
            response = await client.put(f"{calendar_url}{uid}.ics", content=ics.encode(), headers=headers)
        response.raise_for_status()

    async def get_event(self, calendar_url: str, uid: str) -> str | None:
        async with httpx.AsyncClient(auth=self.auth, timeout=10) as client:
            response = await client.get(f"{calendar_url}{uid}.ics")
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.text


async def _mkcalendar(root: str, username: str | None, auth: tuple[str, str] | None, name: str) -> str:
    owner = f"{root}{username or 'dialplane'}/"
    async with httpx.AsyncClient(auth=auth, timeout=10) as client:
        await client.request("MKCOL", owner)  # the owner's collection: 201, or 405 when it exists
        response = await client.request("MKCALENDAR", f"{owner}{name}/")
    if response.status_code != 201:
        raise RuntimeError(f"MKCALENDAR {owner}{name}/: {response.status_code} {response.text[:200]}")
    return f"{owner}{name}/"


def _config(root: Path, port: int, users: Path | None) -> str:
    auth = (
        f"type = htpasswd\nhtpasswd_filename = {users}\nhtpasswd_encryption = plain\ndelay = 0\n"
        if users is not None
        else "type = none\n"
    )
    rights = "owner_only" if users is not None else "authenticated"
    return (
        f"[server]\nhosts = 127.0.0.1:{port}\n[auth]\n{auth}[rights]\ntype = {rights}\n"
        f"[storage]\nfilesystem_folder = {root / 'collections'}\n[web]\ntype = none\n"
        "[logging]\nlevel = warning\n"
    )


@asynccontextmanager
async def radicale_server(
    tmp_path: Path, *, auth: bool = True, username: str = "dialplane", password: str | None = None
) -> AsyncIterator[RadicaleServer]:
    """A Radicale server for the block: storage and logs in ``tmp_path``; one calendar already made."""
    port, password = free_port(), password or secrets.token_urlsafe(12)
    users = tmp_path / "users" if auth else None
    if users is not None:
        users.write_text(f"{username}:{password}\n")
    config, log_file = tmp_path / "radicale.conf", tmp_path / "radicale.log"
    config.write_text(_config(tmp_path, port, users))
    with log_file.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "radicale", "--config", str(config), stdout=log, stderr=log
        )
    try:
        url, user = f"http://127.0.0.1:{port}/", username if auth else None
        await _wait_until_answering(url, process, log_file)
        calendar_url = await _mkcalendar(url, user, (username, password) if auth else None, "calendar")
        yield RadicaleServer(url, user, password if auth else None, calendar_url, tmp_path, log_file)
    finally:
        await _stop(process)


async def _wait_until_answering(url: str, process: asyncio.subprocess.Process, log_file: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    async with httpx.AsyncClient(timeout=1) as client:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                log = await asyncio.to_thread(log_file.read_text)
                raise RuntimeError(f"radicale exited ({process.returncode}): {log[-2000:]}")
            try:
                await client.request("OPTIONS", url)
                return
            except httpx.TransportError:
                await asyncio.sleep(0.05)
    raise RuntimeError(f"radicale did not answer at {url} within {STARTUP_SECONDS:.0f} s")


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is not None:
        return
    process.terminate()
    try:
        await asyncio.wait_for(process.wait(), 5)
    except TimeoutError:
        process.kill()
        await process.wait()


@pytest_asyncio.fixture(scope="session")
async def radicale(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RadicaleServer]:
    """A Radicale server with htpasswd authentication for the whole test run (make a calendar per test
    with :meth:`RadicaleServer.new_calendar`)."""
    async with radicale_server(tmp_path_factory.mktemp("radicale")) as server:
        yield server


class _FakeApi:
    """What the fake Google and Zoom share: access tokens, failures to inject, a log of API requests."""

    def __init__(self) -> None:
        self.base_url = ""  # set while serving
        self.tokens: dict[str, float] = {}  # access token -> when it expires (monotonic)
        self.token_lifetime = 3600
        self.token_requests = 0
        self.requests: list[tuple[str, str]] = []  # (method, path) of each API request
        self._failures: deque[tuple[int, str]] = deque()

    def fail_next(self, *statuses: int, on: str = "") -> None:
        """Answer the next API requests (not token requests) whose ``"METHOD /path"`` contains ``on`` with
        these statuses, one each."""
        self._failures.extend((status, on) for status in statuses)

    def revoke_tokens(self) -> None:
        """Refuse every access token issued so far (as after a revocation or an expiry)."""
        self.tokens.clear()

    def _issue_token(self) -> dict[str, Any]:
        self.token_requests += 1
        token = secrets.token_urlsafe(16)
        self.tokens[token] = time.monotonic() + self.token_lifetime
        return {"access_token": token, "token_type": "bearer", "expires_in": self.token_lifetime}

    def _refusal(self, request: Request) -> Response | None:
        """The answer to an API request that fails before its handler: an injected failure or a 401."""
        self.requests.append((request.method, request.url.path))
        if self._failures and self._failures[0][1] in f"{request.method} {request.url.path}":
            status = self._failures.popleft()[0]
            return JSONResponse(self._error(status, "injected failure"), status)
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or self.tokens.get(token, 0) <= time.monotonic():
            return JSONResponse(self._error(401, "Invalid access token."), 401)
        return None

    def _error(self, status: int, message: str, reason: str = "error") -> dict[str, Any]:
        raise NotImplementedError


def _rfc3339(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value).astimezone(dt.UTC)


def _text(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _merged(spans: list[tuple[dt.datetime, dt.datetime]]) -> list[tuple[dt.datetime, dt.datetime]]:
    merged: list[tuple[dt.datetime, dt.datetime]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


class FakeGoogle(_FakeApi):
    """Google's OAuth token endpoint (``refresh_token`` grant) and the Calendar API v3 calls Dialplane
    makes: ``freeBusy``, and events insert, get, patch, delete, on one calendar. Errors come in Google's
    format; checks Google makes (event ids in base32hex, 5-1024 characters; an empty time range; a
    duplicate id: 409) are made."""

    client_id, client_secret, refresh_token = "fake-client-id", "fake-client-secret", "fake-refresh-token"
    calendar_id = "sales@example.com"

    def __init__(self) -> None:
        super().__init__()
        self.events: dict[str, dict[str, Any]] = {}  # by id, cancelled ones included (as Google keeps them)
        self.app = Starlette(
            routes=[
                Route("/token", self._token, methods=["POST"]),
                Route("/calendar/v3/freeBusy", self._free_busy, methods=["POST"]),
                Route("/calendar/v3/calendars/{calendar}/events", self._insert, methods=["POST"]),
                Route(
                    "/calendar/v3/calendars/{calendar}/events/{event}",
                    self._event,
                    methods=["GET", "PATCH", "DELETE"],
                ),
            ]
        )

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/token"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/calendar/v3"

    def add_event(self, start: dt.datetime, end: dt.datetime, **fields: Any) -> dict[str, Any]:
        """An event put in the calendar by someone else (``transparency``, ``status`` as Google's)."""
        event = {"id": secrets.token_hex(8), "status": "confirmed", "summary": "Busy", **fields}
        event |= {"start": {"dateTime": _text(start)}, "end": {"dateTime": _text(end)}}
        self.events[event["id"]] = event
        return event

    def _error(self, status: int, message: str, reason: str = "error") -> dict[str, Any]:
        errors = [{"domain": "global", "reason": reason}]
        return {"error": {"code": status, "message": message, "errors": errors}}

    async def _token(self, request: Request) -> Response:
        form = await request.form()
        if form.get("grant_type") != "refresh_token":
            return JSONResponse({"error": "unsupported_grant_type"}, 400)
        if (form.get("client_id"), form.get("client_secret")) != (self.client_id, self.client_secret):
            return JSONResponse({"error": "invalid_client", "error_description": "Unauthorized"}, 401)
        if form.get("refresh_token") != self.refresh_token:
            return JSONResponse({"error": "invalid_grant", "error_description": "Bad Request"}, 400)
        return JSONResponse({**self._issue_token(), "scope": "https://www.googleapis.com/auth/calendar"})

    async def _free_busy(self, request: Request) -> Response:
        if refused := self._refusal(request):
            return refused
        body = await request.json()
        low, high = _rfc3339(body["timeMin"]), _rfc3339(body["timeMax"])
        calendars = {item["id"]: self._busy(item["id"], low, high) for item in body.get("items", [])}
        return JSONResponse({"kind": "calendar#freeBusy", **body, "calendars": calendars})

    def _busy(self, calendar: str, low: dt.datetime, high: dt.datetime) -> dict[str, Any]:
        if calendar != self.calendar_id:
            return {"errors": [{"domain": "global", "reason": "notFound"}], "busy": []}
        spans = [
            (max(_rfc3339(e["start"]["dateTime"]), low), min(_rfc3339(e["end"]["dateTime"]), high))
            for e in self.events.values()
            if e.get("status") != "cancelled" and e.get("transparency") != "transparent"
        ]
        busy = _merged([(start, end) for start, end in spans if start < end])
        return {"busy": [{"start": _text(start), "end": _text(end)} for start, end in busy]}

    async def _insert(self, request: Request) -> Response:
        if refused := self._refusal(request) or self._unknown_calendar(request):
            return refused
        event = await request.json()
        if problem := _invalid_event(event):
            return JSONResponse(self._error(400, problem, "invalid"), 400)
        if event["id"] in self.events:
            duplicate = self._error(409, "The requested identifier already exists.", "duplicate")
            return JSONResponse(duplicate, 409)
        event = {"kind": "calendar#event", "status": "confirmed", **event}
        event["sendUpdates"] = request.query_params.get("sendUpdates")  # kept for tests to check
        create = event.get("conferenceData", {}).get("createRequest")
        if create and request.query_params.get("conferenceDataVersion") == "1":
            code = event["id"]
            event["hangoutLink"] = f"https://meet.google.com/{code[:3]}-{code[3:7]}-{code[7:10]}"
            entry = {"entryPointType": "video", "uri": event["hangoutLink"]}
            event["conferenceData"] = {"createRequest": create, "entryPoints": [entry]}
        self.events[event["id"]] = event
        return JSONResponse(event)

    async def _event(self, request: Request) -> Response:
        if refused := self._refusal(request) or self._unknown_calendar(request):
            return refused
        event = self.events.get(request.path_params["event"])
        if event is None:
            return JSONResponse(self._error(404, "Not Found", "notFound"), 404)
        if request.method == "GET":
            return JSONResponse(event)
        if event["status"] == "cancelled" and request.method == "DELETE":
            return JSONResponse(self._error(410, "Resource has been deleted", "deleted"), 410)
        event |= await request.json() if request.method == "PATCH" else {"status": "cancelled"}
        return JSONResponse(event) if request.method == "PATCH" else Response(status_code=204)

    def _unknown_calendar(self, request: Request) -> Response | None:
        if request.path_params["calendar"] == self.calendar_id:
            return None
        return JSONResponse(self._error(404, "Not Found", "notFound"), 404)


def _invalid_event(event: dict[str, Any]) -> str | None:
    if not re.fullmatch(r"[a-v0-9]{5,1024}", str(event.get("id", ""))):
        return "Invalid resource id value."
    try:
        start, end = _rfc3339(event["start"]["dateTime"]), _rfc3339(event["end"]["dateTime"])
    except (KeyError, TypeError, ValueError):
        return "Missing or malformed start or end time."
    return "The specified time range is empty." if end <= start else None


class FakeZoom(_FakeApi):
    """Zoom's Server-to-Server OAuth token endpoint (``grant_type=account_credentials`` with the account id
    in the query, the client's id and secret in Basic authentication) and ``POST /v2/users/{user}/meetings``
    (201 with a ``join_url``)."""

    account_id, client_id, client_secret = "fake-account", "fake-zoom-client", "fake-zoom-secret"

    def __init__(self) -> None:
        super().__init__()
        self.meetings: list[dict[str, Any]] = []
        self._ids = itertools.count(81_000_000_001)
        self.app = Starlette(
            routes=[
                Route("/oauth/token", self._token, methods=["POST"]),
                Route("/v2/users/{user}/meetings", self._create, methods=["POST"]),
            ]
        )

    @property
    def oauth_url(self) -> str:
        return f"{self.base_url}/oauth/token"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/v2"

    def _error(self, status: int, message: str, reason: str = "error") -> dict[str, Any]:
        return {"code": 124 if status == 401 else status, "message": message}

    async def _token(self, request: Request) -> Response:
        query = request.query_params
        if query.get("grant_type") != "account_credentials" or query.get("account_id") != self.account_id:
            refused = {"reason": "Invalid grant type or account id", "error": "invalid_request"}
            return JSONResponse(refused, 400)
        basic = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {basic}":
            refused = {"reason": "Invalid client_id or client_secret", "error": "invalid_client"}
            return JSONResponse(refused, 400)
        return JSONResponse({**self._issue_token(), "scope": "meeting:write:meeting"})

    async def _create(self, request: Request) -> Response:
        if refused := self._refusal(request):
            return refused
        body = await request.json()
        if problem := _invalid_zoom_meeting(body):
            return JSONResponse({"code": 300, "message": problem}, 400)
        number = next(self._ids)
        meeting = {**body, "id": number, "join_url": f"https://zoom.example/j/{number}"}
        self.meetings.append(meeting)
        return JSONResponse(meeting, 201)


def _invalid_zoom_meeting(body: dict[str, Any]) -> str | None:
    if not isinstance(body.get("topic"), str) or body.get("type") != 2:
        return "Invalid field: topic and type 2 (scheduled) are required."
    if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", str(body.get("start_time"))):
        return "Invalid field: start_time."
    if not isinstance(body.get("duration"), int) or body["duration"] <= 0:
        return "Invalid field: duration."
    return None


FakeT = TypeVar("FakeT", FakeGoogle, FakeZoom)


@asynccontextmanager
async def _serving_fake(fake: FakeT) -> AsyncIterator[FakeT]:
    async with serving(fake.app) as base_url:
        fake.base_url = base_url
        yield fake


def serving_fake_google() -> AbstractAsyncContextManager[FakeGoogle]:
    """``async with serving_fake_google() as google``: a :class:`FakeGoogle` served on 127.0.0.1."""
    return _serving_fake(FakeGoogle())


def serving_fake_zoom() -> AbstractAsyncContextManager[FakeZoom]:
    """``async with serving_fake_zoom() as zoom``: a :class:`FakeZoom` served on 127.0.0.1."""
    return _serving_fake(FakeZoom())
