"""Fixtures of the gateway's AI-agent routes: the gateway in front of the ai-agent's API (served in-process
through an ASGI transport, on the same test database), and users holding chosen scopes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager

import httpx
import pytest
import pytest_asyncio

from ai_agent.calendar import BuiltinCalendar
from ai_agent.testing import FakeTextToSpeech, agent_app, agent_settings, fixed_calendar
from dialplane.db import SessionFactory
from dialplane.testing.http import app_client
from gateway.main import create_app
from gateway.testing import FakeClock, add_user, bearer, gateway_settings, login

PASSWORD = "correct horse battery"
Login = Callable[[Iterable[str]], Awaitable[dict[str, str]]]


@asynccontextmanager
async def gateway_to(
    database_url: str, transport: httpx.AsyncBaseTransport
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a running gateway whose ai-agent is behind ``transport``."""
    app = create_app(gateway_settings(database_url), clock=FakeClock(), ai_agent_transport=transport)
    async with app_client(app) as client:
        yield client


@pytest.fixture
def calendar(sessions: SessionFactory) -> BuiltinCalendar:
    return fixed_calendar(sessions)


@pytest.fixture
def speech() -> FakeTextToSpeech:
    return FakeTextToSpeech()


@pytest_asyncio.fixture
async def client(
    database_url: str, sessions: SessionFactory, calendar: BuiltinCalendar, speech: FakeTextToSpeech
) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway, forwarding to a running ai-agent."""
    settings = agent_settings(database_url)
    async with agent_app(settings, calendars={"default": calendar}, text_to_speech=speech) as agent:
        transport = httpx.ASGITransport(app=agent, raise_app_exceptions=False)
        async with gateway_to(database_url, transport) as client:
            yield client


@pytest.fixture
def log_in(client: httpx.AsyncClient, sessions: SessionFactory) -> Login:
    """``await log_in(scopes)``: the headers of a new user holding ``scopes``."""
    count = 0

    async def with_scopes(scopes: Iterable[str]) -> dict[str, str]:
        nonlocal count
        count += 1
        name = f"user{count}"
        await add_user(sessions, name, PASSWORD, list(scopes))
        return bearer(await login(client, name, PASSWORD))

    return with_scopes
