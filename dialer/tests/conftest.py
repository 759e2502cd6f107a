"""Fixtures of the dialer's tests: a running dialer on the test database with a fixed clock."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from dialer.settings import Settings
from dialer.testing import FixedClock, dialer_client, dialer_settings
from dialplane.db import SessionFactory

DEFAULT_CALLER_ID = "+12025550199"


@pytest.fixture
def clock() -> FixedClock:
    """Noon in New York unless the test moves it."""
    return FixedClock()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return dialer_settings(database_url, default_caller_id=DEFAULT_CALLER_ID)


@pytest_asyncio.fixture
async def client(
    settings: Settings, sessions: SessionFactory, clock: FixedClock
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the running dialer, signed as a principal with calls:read and calls:write."""
    async with dialer_client(settings, clock=clock) as client:
        yield client
