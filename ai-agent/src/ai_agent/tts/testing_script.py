"""Scripted replies of the local text-to-speech servers (:mod:`ai_agent.tts.testing`), and the ASGI
response that plays one: streamed audio in chunks with delays, an HTTP error, a stall, a dropped connection.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.types import Send

from ai_agent.audio.testing import sine
from ai_agent.providers.testing import HttpError, PlayedReply, send_whole


@dataclass(frozen=True, slots=True)
class Speech:
    """A 200 answer streaming audio: ``seconds`` of a ``frequency`` Hz sine at the rate the request implies
    (or ``pcm`` as it is), in chunks of ``chunk_bytes`` (odd by default: real servers cut samples anywhere)
    with ``chunk_delay`` between them, after ``delay`` before the headers. ``stall_after`` chunks sent, the
    server sends nothing more but keeps the connection open; ``cut_after`` chunks sent, it drops it."""

    seconds: float = 0.5
    frequency: float = 440.0
    pcm: bytes | None = None
    chunk_bytes: int = 4801
    chunk_delay: float = 0.0
    delay: float = 0.0
    stall_after: int | None = None
    cut_after: int | None = None

    def audio(self, rate: int) -> bytes:
        return self.pcm if self.pcm is not None else sine(self.frequency, self.seconds, rate)


Reply = Speech | HttpError


def rate_limited(retry_after: str | None = "0", message: str = "Rate limit reached.") -> HttpError:
    """A 429, with ``Retry-After: retry_after`` (seconds) unless it is ``None``."""
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return HttpError(429, message, headers)


def stall(after_chunks: int = 0, **options: Any) -> Speech:
    """A 200 whose audio stops after ``after_chunks`` chunks (0: the headers only) without the connection
    closing."""
    return Speech(stall_after=after_chunks, **options)


@dataclass(slots=True)
class ReceivedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names in lower case
    body: Any  # the parsed JSON body, None without one
    at: float  # time.monotonic()
    disconnected: bool = False  # the client went away before the answer was complete
    closed: asyncio.Event = field(default_factory=asyncio.Event)  # the answer is over, one way or the other


ErrorBody = Callable[[int, str], dict[str, Any]]


class PlayedSpeech(PlayedReply):
    """Plays one reply at ``rate``; an error's body is ``error_body(status, message)``."""

    def __init__(
        self,
        reply: Reply,
        received: ReceivedRequest,
        rate: int,
        error_body: ErrorBody,
        closing: asyncio.Event,
    ) -> None:
        super().__init__(received, closing)
        self.reply = reply
        self.rate = rate
        self.error_body = error_body

    async def play(self, send: Send) -> None:
        if not await self.pause(self.reply.delay):
            return
        if isinstance(self.reply, HttpError):
            body = json.dumps(self.error_body(self.reply.status, self.reply.message)).encode()
            await send_whole(send, self.reply.status, body, "application/json", self.reply.headers)
            return
        await self._stream(send, self.reply)

    async def _stream(self, send: Send, reply: Speech) -> None:
        headers = [(b"content-type", b"application/octet-stream")]  # no content-length: sent chunked
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        audio = reply.audio(self.rate)
        chunks = [audio[i : i + reply.chunk_bytes] for i in range(0, len(audio), reply.chunk_bytes)]
        for index, chunk in enumerate(chunks):
            if index in (reply.stall_after, reply.cut_after):
                break
            if index and not await self.pause(reply.chunk_delay):
                return
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        if reply.stall_after is not None and reply.stall_after < len(chunks):
            await self.gone.wait()  # nothing more, until the client gives up
            return
        if reply.cut_after is not None and reply.cut_after < len(chunks):
            return  # returning without the end of the body: the server drops the connection
        await send({"type": "http.response.body", "body": b"", "more_body": False})
