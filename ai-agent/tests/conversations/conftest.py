"""Fixtures of the conversation tests: a running ai-agent whose default calendar has a fixed clock."""

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
def calendar(sessions: SessionFactory) -> BuiltinCalendar:
    return fixed_calendar(sessions)


@pytest_asyncio.fixture
async def client(settings: Settings, calendar: BuiltinCalendar) -> AsyncIterator[httpx.AsyncClient]:
    async with agent_client(settings, calendars={"default": calendar}) as client:
        yield client
