"""Fixtures of the do-not-call tests: the running dialer, signed as a principal that may read and change the
lists (and place calls)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest_asyncio

from dialer.settings import Settings
from dialer.testing import CALL_SCOPES, FixedClock, dialer_client, principal
from dialplane.db import SessionFactory

LIST_SCOPES = frozenset({"do_not_call:read", "do_not_call:write"})


@pytest_asyncio.fixture
async def client(
    settings: Settings, sessions: SessionFactory, clock: FixedClock
) -> AsyncIterator[httpx.AsyncClient]:
    async with dialer_client(settings, clock=clock, who=principal(LIST_SCOPES | CALL_SCOPES)) as client:
        yield client
