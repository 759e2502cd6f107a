"""Fixtures: a real HTTP receiver on 127.0.0.1 and a harness running webhook runners on the test database
(tiny timeouts and backoffs, local receivers allowed)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from dialer.webhooks.testing import Receiver, WebhookHarness, serving_receiver
from dialplane.db import SessionFactory


@pytest_asyncio.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with serving_receiver() as serving:
        yield serving


@pytest_asyncio.fixture
async def webhooks(sessions: SessionFactory) -> AsyncIterator[WebhookHarness]:
    async with WebhookHarness(sessions) as harness:
        yield harness
