"""Fixtures: a running bridge on the test database and the real Asterisk."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from ari_bridge.testing import Bridge, running_bridge
from dialplane.db import SessionFactory
from dialplane.events import PostgresEventStream
from dialplane.testing.asterisk import AsteriskInfo


@pytest_asyncio.fixture
async def bridge(
    database_url: str, asterisk: AsteriskInfo, sessions: SessionFactory, event_stream: PostgresEventStream
) -> AsyncIterator[Bridge]:
    async with running_bridge(database_url, asterisk, sessions, event_stream) as running:
        yield running
