"""Fixtures: the whole single-call path — gateway, dialer and ARI bridge on the test database and the real
Asterisk, with a webhook receiver — and a user of the gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from e2e import Stack, running_stack

from dialplane.db import SessionFactory
from dialplane.events import PostgresEventStream
from dialplane.testing.asterisk import AsteriskInfo


@pytest_asyncio.fixture
async def stack(
    database_url: str, asterisk: AsteriskInfo, sessions: SessionFactory, event_stream: PostgresEventStream
) -> AsyncIterator[Stack]:
    async with running_stack(database_url, asterisk, sessions, event_stream) as running:
        yield running
