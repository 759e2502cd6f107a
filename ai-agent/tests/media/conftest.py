"""Fixtures of the media tests: a fake chan_websocket endpoint per test, and a MediaSocket connected to it
whose audio is read all along (notices — marks, XOFF/XON — are handled while reading, as in a call)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest_asyncio

from ai_agent.media.socket import MediaSocket
from ai_agent.media.testing import FakeMediaEndpoint, serving_media_endpoint


@dataclass
class Reading:
    """A connected socket and the far end's frames read from it so far."""

    media: MediaSocket
    frames: list[bytes] = field(default_factory=list)
    ended: asyncio.Event = field(default_factory=asyncio.Event)

    async def read(self) -> None:
        async for frame in self.media.audio():
            self.frames.append(frame)
        self.ended.set()


@pytest_asyncio.fixture
async def endpoint() -> AsyncIterator[FakeMediaEndpoint]:
    async with serving_media_endpoint() as fake:
        yield fake


@pytest_asyncio.fixture
async def reading(endpoint: FakeMediaEndpoint) -> AsyncIterator[Reading]:
    media = await MediaSocket.connect(endpoint.url)
    state = Reading(media)
    task = asyncio.create_task(state.read())
    try:
        yield state
    finally:
        await media.close()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
