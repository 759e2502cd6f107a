"""Campaign tests: the dialer (with its campaign runner on the test's clock) on the test database, signed as a
principal that may manage campaigns and calls."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest_asyncio

from dialer.campaigns.testing import CAMPAIGN_SCOPES
from dialer.settings import Settings
from dialer.testing import FixedClock, dialer_client, principal
from dialplane.db import SessionFactory


@pytest_asyncio.fixture
async def client(
    settings: Settings, sessions: SessionFactory, clock: FixedClock
) -> AsyncIterator[httpx.AsyncClient]:
    async with dialer_client(settings, clock=clock, who=principal(CAMPAIGN_SCOPES)) as client:
        yield client
