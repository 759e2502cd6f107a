"""Fixtures for the event-stream contract tests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from dialplane.db import SessionFactory, transaction
from dialplane.events import NewEvent, PostgresEventStream

Publish = Callable[..., Awaitable[None]]


@pytest.fixture
def publish(sessions: SessionFactory, event_stream: PostgresEventStream) -> Publish:
    """Publish events in a transaction of their own."""

    async def publish_events(*events: NewEvent) -> None:
        async with transaction(sessions) as session:
            await event_stream.publish(session, *events)

    return publish_events


@pytest_asyncio.fixture
async def scratch_table(db_engine: AsyncEngine, sessions: SessionFactory) -> str:
    """A table standing for "the state change" an event describes (emptied after each test)."""
    async with db_engine.begin() as conn:
        await conn.execute(text("CREATE TABLE IF NOT EXISTS scratch_state (id text PRIMARY KEY)"))
    return "scratch_state"
