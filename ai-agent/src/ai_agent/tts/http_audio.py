"""Audio streamed over HTTP, with the timing and retry rules a phone call needs (shared by the OpenAI and
ElevenLabs providers).

- ``first_byte_timeout`` bounds one attempt from sending the request to the first byte of audio
  (connecting and waiting for the headers included);
- ``total_timeout`` bounds everything before the first byte reaches the caller: attempts and the waits
  between them. No retry starts that could not begin before it;
- ``idle_timeout`` bounds the silence between two chunks once audio flows.

Before any audio has been handed on, a 429 (after its ``Retry-After``), a 5xx or 408, a connection error, a
timeout or a break in the body are retried with exponential backoff and jitter, ``max_retries`` times at
most. Once audio has been handed on the caller may already hear it, so nothing is retried: the error is
raised. Other 4xx answers (a bad key, an unknown voice) are not retried either.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass
from typing import cast

import httpx
import structlog

from ai_agent.audio.resample import Resampler
from ai_agent.providers.http import (
    AttemptFailed,
    Exchange,
    Retries,
    RetryPolicy,
    next_within,
    send_streaming,
)
from ai_agent.tts.metrics import TTS_RETRIES
from ai_agent.tts.types import TtsError, TtsRateLimitedError, TtsTimeoutError

log = structlog.get_logger(__name__)

# httpx's own timeouts only as a backstop: the deadlines above are kept with asyncio.
BACKSTOP_TIMEOUT = httpx.Timeout(60.0)


@dataclass(frozen=True, slots=True)
class HttpTiming:
    first_byte_timeout: float = 5.0
    total_timeout: float = 15.0
    idle_timeout: float = 5.0
    max_retries: int = 2
    backoff_base: float = 0.25
    backoff_cap: float = 2.0


def _tts_error(failure: AttemptFailed, text: str) -> TtsError:
    if failure.reason == "rate_limited":
        return TtsRateLimitedError(text, failure.retry_after)
    if failure.reason == "timeout":
        return TtsTimeoutError(text)
    return TtsError(text, retryable=failure.retryable)


class HttpAudio:
    """Sends a provider's requests through ``client`` and streams the answers' bodies."""

    def __init__(self, client: httpx.AsyncClient, *, provider: str, timing: HttpTiming) -> None:
        self.provider = provider
        self.timing = timing
        self._client = client
        self._retries = Retries(
            kind="tts",
            provider=provider,
            policy=RetryPolicy(timing.max_retries, timing.backoff_base, timing.backoff_cap),
            counter=TTS_RETRIES,
            error=_tts_error,
            log=log,
            delivered="audio",
        )

    async def stream(self, request: httpx.Request) -> AsyncGenerator[bytes, None]:
        """The body of the answer to ``request`` as it arrives, retried as the module says."""
        exchange = Exchange.starting(self.timing.total_timeout)
        async with aclosing(self._retries.stream(exchange, lambda: self._attempt(exchange, request))) as body:
            async for data in body:
                yield data

    async def fetch(self, request: httpx.Request) -> bytes:
        """The whole body of the answer to ``request`` (retried like :meth:`stream`)."""
        async with aclosing(self.stream(request)) as body:
            return b"".join([data async for data in body])

    # --- one attempt ------------------------------------------------------------------------------------

    async def _attempt(self, exchange: Exchange, request: httpx.Request) -> AsyncGenerator[bytes, None]:
        loop = asyncio.get_running_loop()
        until = min(loop.time() + self.timing.first_byte_timeout, exchange.deadline)
        response = await self._send(request, until)
        try:
            async with aclosing(cast(AsyncGenerator[bytes, None], response.aiter_bytes())) as chunks:
                received = False
                while (data := await self._next(chunks, until, received)) is not None:
                    if data:
                        received = True
                        yield data
                        until = loop.time() + self.timing.idle_timeout  # the wait for the server only
        finally:
            await response.aclose()

    async def _send(self, request: httpx.Request, until: float) -> httpx.Response:
        """The response once its status is 2xx (headers read, body not yet)."""
        return await send_streaming(
            self._client, request, provider=self.provider, until=until, late=self._first_byte_timeout
        )

    async def _next(self, chunks: AsyncIterator[bytes], until: float, received: bool) -> bytes | None:
        """The next piece of the body, ``None`` at its end."""
        late = self._stalled if received else self._first_byte_timeout
        return await next_within(chunks, until, late, "the audio broke off")

    def _first_byte_timeout(self) -> AttemptFailed:
        return AttemptFailed(
            "timeout", f"no audio from {self.provider} within {self.timing.first_byte_timeout:g} s"
        )

    def _stalled(self) -> AttemptFailed:
        return AttemptFailed("timeout", f"the audio stalled for {self.timing.idle_timeout:g} s")


async def resampled(
    chunks: AsyncGenerator[bytes, None], from_rate: int, to_rate: int
) -> AsyncGenerator[bytes, None]:
    """``chunks`` (s16le at ``from_rate``, cut anywhere) at ``to_rate``; ``chunks`` is closed with it."""
    resampler = Resampler(from_rate, to_rate)
    async with aclosing(chunks):
        async for data in chunks:
            if out := resampler.process(data):
                yield out
    if tail := resampler.flush():
        yield tail
