"""HTTP plumbing of the calendar's server clients — the CalDAV client, and Google Calendar and Zoom too: the
errors a server's failure becomes, retries with backoff, and a cached OAuth access token.

Errors (all :class:`~ai_agent.calendar.interface.CalendarError`\\ s, so a tool can read ``detail`` out):

* :class:`CalendarServerError` (502) — the server refused or failed a request; ``detail`` says which server,
  which request (method, host and path: never a query string, a credential or a token) and why;
* :class:`CalendarAuthError` (502) — it refused Dialplane's credentials (401, 403, an OAuth grant refused);
* :class:`CalendarUnavailableError` (503) — unreachable, timing out, or answering 429/5xx after every retry.

:func:`send` retries timeouts, connection failures, 429 and 5xx (``HttpOptions.attempts`` in all, the wait
doubling from ``backoff_seconds`` with jitter) and returns any other response for the caller to judge:
a 404 or a 412 means something different to each request.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field

from ai_agent.calendar.interface import CalendarError

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
TOKEN_MARGIN_SECONDS = 60.0  # a cached token is renewed this long before it expires


class CalendarServerError(CalendarError):
    """A calendar (or meeting-link) server refused or failed a request."""

    status, code, title = 502, "calendar_server_error", "Calendar server error"


class CalendarAuthError(CalendarServerError):
    """The server refused Dialplane's credentials: check the calendar's configuration."""

    status, code, title = 502, "calendar_auth_failed", "Calendar server refused the credentials"


class CalendarUnavailableError(CalendarServerError):
    """The server could not be reached, timed out, or kept failing."""

    status, code, title = 503, "calendar_unavailable", "Calendar server unavailable"


class HttpOptions(BaseModel):
    """Timeouts and retries of a server client (a person is waiting on the phone: keep them short)."""

    model_config = ConfigDict(frozen=True)

    timeout_seconds: float = Field(default=5.0, gt=0, description="per request (connect, read, write)")
    attempts: int = Field(default=3, ge=1, le=10, description="tries of a request that times out or gets 5xx")
    backoff_seconds: float = Field(default=0.25, ge=0, description="first wait between tries, then doubled")


def new_client(
    options: HttpOptions,
    transport: httpx.AsyncBaseTransport | None = None,
    auth: httpx.Auth | None = None,
) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=transport, timeout=options.timeout_seconds, auth=auth)


def where(request: httpx.Request) -> str:
    """``METHOD host/path`` for messages: no query string (it may hold an account id) and no credentials."""
    return f"{request.method} {request.url.host}{request.url.path}"


async def send(
    client: httpx.AsyncClient, request: httpx.Request, *, service: str, options: HttpOptions
) -> httpx.Response:
    """Send ``request``, trying again after a timeout, a connection failure, 429 or 5xx; any other response
    is returned. Raises :class:`CalendarUnavailableError` when the last try fails too."""
    failure = "failed"
    for attempt in range(1, options.attempts + 1):
        try:
            response = await client.send(request)
        except httpx.TimeoutException:
            failure = "timed out"
        except httpx.TransportError as exc:
            failure = f"could not be reached ({type(exc).__name__})"
        else:
            if response.status_code not in RETRY_STATUSES:
                return response
            failure = f"answered {response.status_code} {response.reason_phrase}"
        if attempt < options.attempts:
            await asyncio.sleep(options.backoff_seconds * 2 ** (attempt - 1) * random.uniform(0.8, 1.2))
    tries = f"{options.attempts} attempt{'s' if options.attempts != 1 else ''}"
    raise CalendarUnavailableError(f"{service} {failure} ({where(request)}, {tries})")


def refusal(response: httpx.Response, *, service: str, what: str) -> CalendarServerError:
    """The error for an unexpected ``response`` to the request that ``what`` names."""
    status = f"{response.status_code} {response.reason_phrase}"
    request = where(response.request)
    if response.status_code in (401, 403):
        return CalendarAuthError(f"{service} refused the credentials ({status}) to {what} ({request})")
    if response.status_code == 404:
        return CalendarServerError(f"{service} found nothing at {request} (404) to {what}: check the URL")
    excerpt = " ".join(response.text.split())[:200]
    said = f": {excerpt}" if excerpt else ""
    return CalendarServerError(f"{service} refused to {what}: {status} ({request}){said}")


def json_body(response: httpx.Response, *, service: str) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise CalendarServerError(f"{service} sent a malformed answer to {where(response.request)}") from exc


Fetch = Callable[[], Awaitable[tuple[str, float]]]  # an access token and its lifetime in seconds


class AccessTokens:
    """An OAuth access token obtained by ``fetch``, reused until shortly before it expires. Concurrent
    callers share one fetch."""

    def __init__(self, fetch: Fetch, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._fetch = fetch
        self._clock = clock
        self._lock = asyncio.Lock()
        self._token: str | None = None
        self._expires = 0.0

    async def get(self) -> str:
        async with self._lock:
            if self._token is None or self._clock() >= self._expires:
                token, lifetime = await self._fetch()
                self._token = token
                self._expires = self._clock() + max(lifetime - TOKEN_MARGIN_SECONDS, lifetime / 2)
            return self._token

    def invalidate(self, token: str) -> None:
        """Forget ``token`` (the server refused it) unless a newer one already replaced it."""
        if self._token == token:
            self._token = None


async def send_authorized(
    client: httpx.AsyncClient,
    build: Callable[[str], httpx.Request],
    tokens: AccessTokens,
    *,
    service: str,
    options: HttpOptions,
) -> httpx.Response:
    """:func:`send` the request ``build(token)`` makes; after a 401, once more with a fresh token."""
    token = await tokens.get()
    response = await send(client, build(token), service=service, options=options)
    if response.status_code != 401:
        return response
    tokens.invalidate(token)
    return await send(client, build(await tokens.get()), service=service, options=options)


def token_from(response: httpx.Response, *, service: str) -> tuple[str, float]:
    """The access token and lifetime of an OAuth token response; a refused grant is a
    :class:`CalendarAuthError` naming the OAuth error code (never the credentials)."""
    if response.status_code in (400, 401, 403):
        body = json_body(response, service=service) if response.content else {}
        error = body.get("error", response.status_code) if isinstance(body, dict) else response.status_code
        raise CalendarAuthError(f"{service} refused the OAuth credentials ({error}): check the configuration")
    if response.status_code != 200:
        raise refusal(response, service=service, what="issue an access token")
    body = json_body(response, service=service)
    try:
        return str(body["access_token"]), float(body.get("expires_in", 3600))
    except (KeyError, TypeError, ValueError) as exc:
        raise CalendarServerError(f"{service} sent a token response without an access token") from exc
