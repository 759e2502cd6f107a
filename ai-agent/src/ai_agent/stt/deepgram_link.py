"""One WebSocket connection to Deepgram: the audio sent on it (which is its clock) and the results read back
by a background task. A link that drops stays dead; the session opens a new one."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from ai_agent.stt.deepgram_wire import Result, parse_result

SEND_TIMEOUT = 2.0  # seconds a send may wait for the network before the link is given up


class Link:
    def __init__(self, websocket: ClientConnection, bytes_per_second: int) -> None:
        self.websocket = websocket
        self.results: list[Result] = []
        self.sent_bytes = 0  # audio sent on this link
        self.last_sent = asyncio.get_running_loop().time()  # audio or a control message
        self._bytes_per_second = bytes_per_second
        self._open = True
        self._changed = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    @property
    def alive(self) -> bool:
        return self._open

    @property
    def seconds(self) -> float:
        """Seconds of audio sent on this link: the time Deepgram gives the next audio."""
        return self.sent_bytes / self._bytes_per_second

    async def send_audio(self, pcm: bytes) -> bool:
        """``False`` if the link is dead (the audio may be lost)."""
        if not await self._send(pcm):
            return False
        self.sent_bytes += len(pcm)
        return True

    async def send_text(self, message: str) -> bool:
        return await self._send(message)

    def forget_before(self, seconds: float) -> None:
        """Drop the results about audio before ``seconds`` (finished turns)."""
        self.results = [result for result in self.results if result.end > seconds]

    async def wait_for(self, condition: Callable[[], bool], deadline: float) -> bool:
        """Wait until ``condition()`` holds (``True``), the link drops or ``deadline`` (event-loop time)
        passes (``False``, unless it holds by then)."""
        while True:
            self._changed.clear()
            if condition():
                return True
            if not self._open:
                return False
            try:
                async with asyncio.timeout_at(deadline):
                    await self._changed.wait()
            except TimeoutError:
                return condition()

    async def close(self, farewell: str, grace: float) -> None:
        """Send ``farewell`` (CloseStream), let Deepgram send its last results and close, then close."""
        if self._open and await self._send(farewell):
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(grace):
                    await asyncio.shield(self._reader)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(grace):
                await self.websocket.close()
        self._reader.cancel()

    async def _send(self, message: str | bytes) -> bool:
        if not self._open:
            return False
        try:
            async with asyncio.timeout(SEND_TIMEOUT):
                await self.websocket.send(message)
        except ConnectionClosed:
            return False
        except TimeoutError:
            self._lost()
            self.websocket.transport.abort()
            return False
        self.last_sent = asyncio.get_running_loop().time()
        return True

    async def _read(self) -> None:
        try:
            async for message in self.websocket:
                result = parse_result(message)
                if result is not None:
                    self.results.append(result)
                    self._changed.set()
        except ConnectionClosed:
            pass
        finally:
            self._lost()

    def _lost(self) -> None:
        self._open = False
        self._changed.set()
