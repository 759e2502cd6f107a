"""Calendars from configuration: :data:`CalendarConfig`, one calendar's settings — the booking rules of
:class:`~ai_agent.calendar.settings.CalendarSettings`, a ``provider`` (``builtin``, ``caldav``, ``google``;
``builtin`` when left out) with its fields, and ``links``, where meeting links come from — and
:func:`build_calendars`, which makes them::

    calendars = build_calendars(settings.calendars, sessions)   # {"default": BuiltinCalendar, ...}
    ...
    await close_calendars(calendars)                             # at shutdown

``links`` is ``{"provider": "template"}`` (the default: ``link_template``, or no link when it is null),
``{"provider": "zoom", "account_id", "client_id", "client_secret"}``, or for Google calendars
``{"provider": "google_meet"}`` (a Meet conference on each event). Secrets are ``SecretStr``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Literal, Protocol, runtime_checkable
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, Discriminator, Field, SecretStr, Tag, field_validator

from ai_agent.calendar import google, zoom
from ai_agent.calendar.builtin import BuiltinCalendar
from ai_agent.calendar.caldav import AuthScheme, CaldavCalendar
from ai_agent.calendar.caldav_http import HttpOptions
from ai_agent.calendar.google import GoogleCalendar, SendUpdates
from ai_agent.calendar.interface import Calendar
from ai_agent.calendar.links import MeetingLinks, TemplateLinks
from ai_agent.calendar.rules import Clock, utc_now
from ai_agent.calendar.settings import CalendarSettings
from ai_agent.calendar.zoom import ZoomLinks
from dialplane.db import SessionFactory


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ValueError(f"must be an http(s) URL, got {value!r}")
    return value


class TemplateLinksConfig(BaseModel):
    """Links from the calendar's ``link_template`` (none when it is null)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    provider: Literal["template"] = "template"


class ZoomLinksConfig(BaseModel):
    """A Zoom meeting per booking, from a Server-to-Server OAuth app (scope ``meeting:write:meeting``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    provider: Literal["zoom"] = "zoom"
    account_id: str = Field(min_length=1)
    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    user_id: str = Field(default="me", description="whose meetings: 'me' is the app's account owner")
    oauth_url: str = zoom.OAUTH_URL
    api_url: str = zoom.API_URL
    http: HttpOptions = HttpOptions()

    _urls = field_validator("oauth_url", "api_url")(_http_url)


class GoogleMeetLinksConfig(BaseModel):
    """A Google Meet conference on each event (Google calendars only)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    provider: Literal["google_meet"] = "google_meet"


Links = Annotated[TemplateLinksConfig | ZoomLinksConfig, Field(discriminator="provider")]
GoogleLinks = Annotated[
    TemplateLinksConfig | ZoomLinksConfig | GoogleMeetLinksConfig, Field(discriminator="provider")
]


class BuiltinCalendarConfig(CalendarSettings):
    """Meetings in PostgreSQL only."""

    model_config = ConfigDict(extra="forbid")
    provider: Literal["builtin"] = "builtin"
    links: Links = TemplateLinksConfig()


class CaldavCalendarConfig(CalendarSettings):
    """Meetings also written to a CalDAV calendar collection, whose other events are busy time."""

    model_config = ConfigDict(extra="forbid")
    provider: Literal["caldav"] = "caldav"
    url: str = Field(description="the calendar collection, e.g. https://dav.example.com/anna/sales/")
    username: str | None = None
    password: SecretStr | None = None
    auth: AuthScheme = "basic"
    http: HttpOptions = HttpOptions()
    links: Links = TemplateLinksConfig()

    _urls = field_validator("url")(_http_url)


class GoogleCalendarConfig(CalendarSettings):
    """Meetings also written to a Google calendar, whose other events are busy time."""

    model_config = ConfigDict(extra="forbid")
    provider: Literal["google"] = "google"
    calendar_id: str = Field(default="primary", min_length=1)
    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    refresh_token: SecretStr
    token_url: str = google.TOKEN_URL
    api_url: str = google.API_URL
    send_updates: SendUpdates = Field(default="none", description="whether Google emails the attendee")
    http: HttpOptions = HttpOptions()
    links: GoogleLinks = TemplateLinksConfig()

    _urls = field_validator("token_url", "api_url")(_http_url)


def _provider(value: Any) -> str:
    """The union's tag: ``provider``, ``builtin`` when it is left out."""
    provider = value.get("provider") if isinstance(value, dict) else getattr(value, "provider", None)
    return str(provider or "builtin")


CalendarConfig = Annotated[
    Annotated[BuiltinCalendarConfig, Tag("builtin")]
    | Annotated[CaldavCalendarConfig, Tag("caldav")]
    | Annotated[GoogleCalendarConfig, Tag("google")],
    Discriminator(_provider),
]


def default_calendars() -> list[CalendarConfig]:
    """One built-in calendar named ``default`` (the default of the service's ``calendars``)."""
    return [BuiltinCalendarConfig()]


def build_calendars(
    configs: Iterable[CalendarConfig],
    sessions: SessionFactory,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    clock: Clock = utc_now,
) -> dict[str, Calendar]:
    """The configured calendars by name. Raises ``ValueError`` when two share a name (they would share
    the ``meetings`` rows of that name). ``transport`` carries every provider's HTTP (tests)."""
    configs = list(configs)
    if duplicates := sorted(name for name, n in Counter(c.name for c in configs).items() if n > 1):
        raise ValueError(f"calendar names must be unique: {', '.join(map(repr, duplicates))} repeated")
    return {config.name: _build(config, sessions, transport, clock) for config in configs}


async def close_calendars(calendars: Mapping[str, Calendar]) -> None:
    """Close the HTTP connections of the calendars :func:`build_calendars` made."""
    for calendar in calendars.values():
        if isinstance(calendar, _Closable):
            await calendar.aclose()


@runtime_checkable
class _Closable(Protocol):
    async def aclose(self) -> None: ...


def _build(
    config: CalendarConfig,
    sessions: SessionFactory,
    transport: httpx.AsyncBaseTransport | None,
    clock: Clock,
) -> BuiltinCalendar:
    links = _links(config, transport)
    if isinstance(config, CaldavCalendarConfig):
        return CaldavCalendar(
            sessions, config, url=config.url, username=config.username, password=config.password,
            auth=config.auth, options=config.http, transport=transport, clock=clock, links=links,
        )  # fmt: skip
    if isinstance(config, GoogleCalendarConfig):
        return GoogleCalendar(
            sessions, config, calendar_id=config.calendar_id, client_id=config.client_id,
            client_secret=config.client_secret, refresh_token=config.refresh_token,
            token_url=config.token_url, api_url=config.api_url, send_updates=config.send_updates,
            meet=isinstance(config.links, GoogleMeetLinksConfig), options=config.http,
            transport=transport, clock=clock, links=links,
        )  # fmt: skip
    return BuiltinCalendar(sessions, config, clock=clock, links=links)


def _links(config: CalendarConfig, transport: httpx.AsyncBaseTransport | None) -> MeetingLinks:
    match config.links:
        case ZoomLinksConfig() as zoom_config:
            return ZoomLinks(
                account_id=zoom_config.account_id, client_id=zoom_config.client_id,
                client_secret=zoom_config.client_secret, user_id=zoom_config.user_id,
                oauth_url=zoom_config.oauth_url, api_url=zoom_config.api_url, options=zoom_config.http,
                transport=transport,
            )  # fmt: skip
        case GoogleMeetLinksConfig():
            return TemplateLinks(None)  # the Meet link comes with the event
        case _:
            return TemplateLinks(config.link_template)
