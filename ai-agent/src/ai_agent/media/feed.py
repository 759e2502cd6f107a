"""The person's audio as a steady stream: frames as they arrive, and silence where none arrived.

Asterisk sends a media channel frames only while the other side produces them; a far end that goes quiet
may send nothing at all. :meth:`AudioFeed.frame` returns the next frame, or ``gap_seconds`` of silence if
none arrived in that time, so that silence is heard as silence (end of turn, silence timeouts) either way.
"""

from __future__ import annotations

import asyncio
import contextlib

from ai_agent.media.socket import MediaSocket


class AudioFeed:
    def __init__(self, media: MediaSocket, *, gap_seconds: float = 0.1) -> None:
        self._media, self._gap = media, gap_seconds
        self._frames: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._reader = asyncio.create_task(self._read())
        self.closed = False

    async def _read(self) -> None:
        try:
            async for frame in self._media.audio():
                self._frames.put_nowait(frame)
        finally:
            self._frames.put_nowait(None)

    async def frame(self) -> bytes | None:
        """The next audio (16-bit samples), or None once the call's media has closed."""
        if self.closed:
            return None
        try:
            frame = await asyncio.wait_for(self._frames.get(), self._gap)
        except TimeoutError:
            return bytes(2 * round(self._gap * self._media.start.sample_rate))
        self.closed = frame is None
        return frame

    def pressed_keys(self) -> list[str]:
        """The keys pressed since the previous call, in order."""
        keys, self._media.keys = self._media.keys, []
        return keys

    async def close(self) -> None:
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader
