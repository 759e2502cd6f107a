"""Fixtures, imported by the conftest of the tests that use them: the whole AI call path — gateway, dialer,
ARI bridge and ai-agent (offline stack: Silero VAD, Whisper tiny.en, the dialogue policy, espeak-ng) on the
test database and the real Asterisk, with its calendar on a real Radicale CalDAV server. The calendar is open
every day, so the tests pass on any day."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from e2e import LEAD_ZONE, Stack, running_stack

from ai_agent.calendar.registry import CaldavCalendarConfig
from ai_agent.calendar.settings import every_day
from ai_agent.calendar.testing import RadicaleServer, radicale_server
from ai_agent.main import create_app as create_ai_agent
from ai_agent.settings import EngineSettings
from ai_agent.testing import agent_settings, seed_default_profile
from dialplane.db import SessionFactory
from dialplane.events import PostgresEventStream
from dialplane.testing.asterisk import AsteriskInfo
from dialplane.testing.http import serving


@pytest_asyncio.fixture(scope="module")
async def radicale(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RadicaleServer]:
    async with radicale_server(tmp_path_factory.mktemp("radicale")) as server:
        yield server


@pytest_asyncio.fixture
async def ai_stack(
    database_url: str,
    asterisk: AsteriskInfo,
    sessions: SessionFactory,
    event_stream: PostgresEventStream,
    radicale: RadicaleServer,
) -> AsyncIterator[Stack]:
    calendar = CaldavCalendarConfig(
        name="default",
        time_zone=LEAD_ZONE,
        working_hours=every_day("08:00-20:00"),
        url=radicale.calendar_url,
        username=radicale.username,
        password=radicale.password,
    )
    settings = agent_settings(database_url, calendars=[calendar], engine=EngineSettings(record_calls=True))
    await seed_default_profile(sessions)  # (the database fixtures empty every table after each test)
    async with (
        serving(create_ai_agent(settings)) as agent_url,
        running_stack(database_url, asterisk, sessions, event_stream, ai_agent_url=agent_url) as stack,
    ):
        yield stack
