"""Fixtures for the event-stream contract tests; every test using ``event_stream`` runs against both
backends (PostgreSQL, and NATS JetStream on a private server) unless marked ``postgres_backend_only``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from dialplane.db import SessionFactory, transaction
from dialplane.events import EventStream, NewEvent

Publish = Callable[..., Awaitable[None]]
BACKENDS = ("postgres", "jetstream")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "postgres_backend_only: tests a PostgreSQL-backend mechanism (NOTIFY wake-ups, polling)"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "event_stream" not in metafunc.fixturenames:
        return
    only_postgres = metafunc.definition.get_closest_marker("postgres_backend_only") is not None
    metafunc.parametrize("event_stream", ["postgres"] if only_postgres else BACKENDS, indirect=True)


@pytest.fixture
def publish(sessions: SessionFactory, event_stream: EventStream) -> Publish:
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
