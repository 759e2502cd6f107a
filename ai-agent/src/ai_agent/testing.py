"""Test support for the ai-agent's API: the service on the test database with chosen calendars and speech
provider, requests signed as the gateway signs them, the default profile the migration inserts (tests empty
every table), and a speech provider that needs no model.

Used by the ai-agent's tests and by the gateway's tests of the routes it forwards here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import text

from ai_agent.api import routers
from ai_agent.calendar import BuiltinCalendar, Calendar, CalendarSettings, every_day
from ai_agent.dependencies import get_calendars, get_text_to_speech
from ai_agent.main import create_app
from ai_agent.profiles import prompt
from ai_agent.settings import Settings
from ai_agent.tts import TextToSpeech, TtsError, Voice
from dialplane.app import create_service_app
from dialplane.db import SessionFactory, transaction
from dialplane.internal_auth import Principal
from dialplane.testing.http import SignedPrincipal, service_settings

AGENT_SCOPES = frozenset({"agents:read", "agents:write", "meetings:read", "meetings:write", "calls:read"})
ALL_TOOLS = [
    "check_calendar_availability",
    "book_meeting",
    "schedule_callback",
    "transfer_to_human",
    "opt_out",
    "end_call",
]
DEFAULT_VOICEMAIL = (
    "Hello, this is Alex, an automated assistant calling on behalf of Dialplane about a short introductory"
    " call. We will try to reach you again another time. Goodbye."
)  # as migration 0008 inserts it


CALENDAR_NOW = dt.datetime(2026, 6, 15, 7, 0, tzinfo=dt.UTC)  # Monday 09:00 in Berlin


def fixed_calendar(
    sessions: SessionFactory, name: str = "default", now: dt.datetime = CALENDAR_NOW
) -> BuiltinCalendar:
    """A built-in calendar open every day 08:00-20:00 Berlin time (30-minute slots, 10 minutes of buffer,
    an hour of notice), whose clock stands still at ``now``."""
    settings = CalendarSettings(
        name=name,
        time_zone="Europe/Berlin",
        working_hours=every_day("08:00-20:00"),
        link_template="https://meet.example.com/{meeting_id}",
    )
    return BuiltinCalendar(sessions, settings, clock=lambda: now)


def principal(scopes: Iterable[str] = AGENT_SCOPES, principal_id: str = "api_key:test") -> Principal:
    return Principal(id=principal_id, kind="api_key", name="test key", scopes=frozenset(scopes))


def agent_settings(database_url: str, **overrides: Any) -> Settings:
    return service_settings(Settings, database_url, **overrides)


@dataclass
class FakeTextToSpeech:
    """A :class:`~ai_agent.tts.TextToSpeech` that speaks silence of one sample per character, lists the
    given voices, and remembers what it was asked; ``failure`` is raised instead when set."""

    offered: list[Voice] = field(
        default_factory=lambda: [
            Voice("en-test", "Test English", "en-us", "female"),
            Voice("de-test", "Test German", "de", "male"),
            Voice("any-test", "Test Multilingual", "multilingual", None),
        ]
    )
    failure: TtsError | None = None
    spoken: list[dict[str, Any]] = field(default_factory=list)

    async def synthesize(
        self, text: str, *, voice: str | None, language: str, sample_rate: int
    ) -> AsyncGenerator[bytes, None]:
        if self.failure is not None:
            raise self.failure
        self.spoken.append({"text": text, "voice": voice, "language": language, "sample_rate": sample_rate})
        yield b"\x00\x00" * len(text)

    async def voices(self, language: str | None = None) -> list[Voice]:
        if self.failure is not None:
            raise self.failure
        wanted = (language or "").lower()
        return [v for v in self.offered if not wanted or v.language.lower().startswith(wanted)]

    async def aclose(self) -> None:
        return None


async def seed_default_profile(sessions: SessionFactory) -> None:
    """Insert the ``default`` profile as migration 0008 does, unless it exists."""
    query = text(
        "INSERT INTO agent_profiles (name, description, tools, voicemail_message)"
        " VALUES ('default', 'The profile of agent calls that name none.', :tools, :voicemail)"
        " ON CONFLICT (name) DO NOTHING"
    )
    async with transaction(sessions) as session:
        await session.execute(query, {"tools": ALL_TOOLS, "voicemail": DEFAULT_VOICEMAIL})


def use_dependencies(
    app: FastAPI,
    *,
    calendars: Mapping[str, Calendar] | None = None,
    text_to_speech: TextToSpeech | None = None,
) -> None:
    """Give ``app`` these calendars and this speech provider instead of its own (those given)."""
    if calendars is not None:
        app.dependency_overrides[get_calendars] = lambda: calendars
    if text_to_speech is not None:
        app.dependency_overrides[get_text_to_speech] = lambda: text_to_speech


def api_app(settings: Settings) -> FastAPI:
    """The ai-agent's API without the conversation engine (which loads speech models and consumes call
    events): the same routers on the same shared plumbing, for tests of the API alone. Its calendar is the
    service's default one; its speech provider a :class:`FakeTextToSpeech`."""

    @asynccontextmanager
    async def resources(app: FastAPI) -> AsyncIterator[None]:
        app.state.calendars = {"default": BuiltinCalendar(app.state.sessions, CalendarSettings())}
        app.state.text_to_speech = FakeTextToSpeech()
        yield

    return create_service_app(
        settings, title="Dialplane AI agent API", routers=routers, extra_lifespan=resources
    )


@asynccontextmanager
async def agent_app(
    settings: Settings,
    *,
    calendars: Mapping[str, Calendar] | None = None,
    text_to_speech: TextToSpeech | None = None,
    engine: bool = False,
) -> AsyncIterator[FastAPI]:
    """A running ai-agent (lifespan started, default profile present, prompt cache empty) with these
    calendars and speech provider when given; the whole service with ``engine`` (which loads the speech
    models), else only its API (:func:`api_app`)."""
    app = create_app(settings) if engine else api_app(settings)
    use_dependencies(app, calendars=calendars, text_to_speech=text_to_speech)
    prompt.cache.clear()
    async with app.router.lifespan_context(app):
        await seed_default_profile(app.state.sessions)
        yield app


@asynccontextmanager
async def agent_client(
    settings: Settings,
    *,
    who: Principal | None = None,
    calendars: Mapping[str, Calendar] | None = None,
    text_to_speech: TextToSpeech | None = None,
    engine: bool = False,
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a running ai-agent (see :func:`agent_app`) whose requests carry a signed principal
    (default: every scope the ai-agent's routes need)."""
    apps = agent_app(settings, calendars=calendars, text_to_speech=text_to_speech, engine=engine)
    async with apps as app:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            client.auth = SignedPrincipal(who or principal())
            yield client
