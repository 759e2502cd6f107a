"""Fixtures of the meetings API tests: a running ai-agent with two built-in calendars (``default`` and
``sales``) whose clock stands at Monday 2026-06-15 09:00 Berlin time."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from ai_agent.calendar import BuiltinCalendar
from ai_agent.settings import Settings
from ai_agent.testing import agent_client, agent_settings, fixed_calendar
from dialplane.db import SessionFactory


@pytest.fixture
def settings(database_url: str) -> Settings:
    return agent_settings(database_url)


@pytest.fixture
def calendars(sessions: SessionFactory) -> dict[str, BuiltinCalendar]:
    return {name: fixed_calendar(sessions, name) for name in ("default", "sales")}


@pytest_asyncio.fixture
async def client(
    settings: Settings, calendars: dict[str, BuiltinCalendar]
) -> AsyncIterator[httpx.AsyncClient]:
    async with agent_client(settings, calendars=calendars) as client:
        yield client
