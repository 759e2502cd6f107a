"""AudioFeed over the fake endpoint: the far end's frames as they come, silence where none came (a far end
that goes quiet may send nothing), and the end of the call."""

from __future__ import annotations

import asyncio
import time

from ai_agent.media.feed import AudioFeed
from ai_agent.media.socket import MediaSocket
from ai_agent.media.testing import FRAME_BYTES, FakeMediaEndpoint, frames_of


async def test_frames_then_silence_for_a_gap_then_the_end(endpoint: FakeMediaEndpoint) -> None:
    media = await MediaSocket.connect(endpoint.url)
    feed = AudioFeed(media, gap_seconds=0.1)
    try:
        spoken = (1000).to_bytes(2, "little") * (3 * FRAME_BYTES // 2)
        await endpoint.say(spoken)
        assert [await feed.frame() for _ in range(3)] == frames_of(spoken)

        started = time.monotonic()
        gap = await feed.frame()  # the far end sends nothing at all
        assert gap == bytes(2 * 1600)  # 0.1 s of 16 kHz silence
        assert 0.08 <= time.monotonic() - started <= 0.5

        quiet = asyncio.create_task(endpoint.silence(0.06, frames=True))
        assert [await feed.frame() for _ in range(3)] == [bytes(FRAME_BYTES)] * 3
        await quiet

        await endpoint.hang_up()
        async with asyncio.timeout(2):
            assert await feed.frame() is None
        assert await feed.frame() is None
        assert feed.closed and media.closed
    finally:
        await feed.close()
        await media.close()
