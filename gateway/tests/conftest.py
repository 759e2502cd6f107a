"""Fixtures of the gateway's tests: settings on the test database, a fake clock, and a running gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from dialplane.db import SessionFactory
from gateway.settings import Settings
from gateway.testing import FakeClock, gateway_client, gateway_settings


@pytest.fixture
def settings(database_url: str) -> Settings:
    return gateway_settings(database_url)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest_asyncio.fixture
async def client(
    settings: Settings, clock: FakeClock, sessions: SessionFactory
) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway with ``settings`` and ``clock``; the tables are emptied after the test."""
    async with gateway_client(settings, clock=clock) as running:
        yield running
