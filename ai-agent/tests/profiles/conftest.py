"""Fixtures of the profile tests: a running ai-agent with two calendars (``default`` and ``sales``) and a
fake speech provider."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from ai_agent.settings import Settings
from ai_agent.testing import FakeTextToSpeech, agent_client, agent_settings, fixed_calendar
from dialplane.db import SessionFactory


@pytest.fixture
def settings(database_url: str) -> Settings:
    return agent_settings(database_url)


@pytest.fixture
def speech() -> FakeTextToSpeech:
    return FakeTextToSpeech()


@pytest_asyncio.fixture
async def client(
    settings: Settings, sessions: SessionFactory, speech: FakeTextToSpeech
) -> AsyncIterator[httpx.AsyncClient]:
    calendars = {name: fixed_calendar(sessions, name) for name in ("default", "sales")}
    async with agent_client(settings, calendars=calendars, text_to_speech=speech) as client:
        yield client
