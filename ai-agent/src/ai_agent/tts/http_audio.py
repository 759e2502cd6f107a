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
import random
import time
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any, cast

import httpx
import structlog

from ai_agent.audio.resample import Resampler
from ai_agent.llm.openai_wire import error_text, parse_retry_after
from ai_agent.tts.metrics import TTS_RETRIES
from ai_agent.tts.types import TtsError, TtsRateLimitedError, TtsTimeoutError

log = structlog.get_logger(__name__)

# httpx's own timeouts only as a backstop: the deadlines above are kept with asyncio.
BACKSTOP_TIMEOUT = httpx.Timeout(60.0)
_RETRYABLE = frozenset({"rate_limited", "server_error", "connection_error", "timeout", "broken_stream"})


@dataclass(frozen=True, slots=True)
class HttpTiming:
    first_byte_timeout: float = 5.0
    total_timeout: float = 15.0
    idle_timeout: float = 5.0
    max_retries: int = 2
    backoff_base: float = 0.25
    backoff_cap: float = 2.0


class _AttemptFailed(Exception):
    """One attempt failed; ``reason`` is the metric label and decides retrying and the error raised."""

    def __init__(self, reason: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.retry_after = retry_after

    def error(self, suffix: str) -> TtsError:
        text = f"{self.message} ({suffix})"
        if self.reason == "rate_limited":
            return TtsRateLimitedError(text, self.retry_after)
        if self.reason == "timeout":
            return TtsTimeoutError(text)
        return TtsError(text, retryable=self.reason in _RETRYABLE)


@dataclass(slots=True)
class _Exchange:
    """One call of :meth:`HttpAudio.stream`; ``deadline`` is on the event loop's clock."""

    deadline: float
    attempt: int = 1
    yielded: bool = False


class HttpAudio:
    """Sends a provider's requests through ``client`` and streams the answers' bodies."""

    def __init__(self, client: httpx.AsyncClient, *, provider: str, timing: HttpTiming) -> None:
        self.provider = provider
        self.timing = timing
        self._client = client

    async def stream(self, request: httpx.Request) -> AsyncGenerator[bytes, None]:
        """The body of the answer to ``request`` as it arrives, retried as the module says."""
        exchange = _Exchange(deadline=asyncio.get_running_loop().time() + self.timing.total_timeout)
        while True:
            try:
                async with aclosing(self._attempt(exchange, request)) as body:
                    async for data in body:
                        exchange.yielded = True
                        yield data
                return
            except _AttemptFailed as failure:
                delay = self._retry_delay(exchange, failure)
                if delay is None:
                    raise self._give_up(exchange, failure) from failure.__cause__
                self._count_retry(exchange, failure, delay)
                await asyncio.sleep(delay)
                exchange.attempt += 1

    async def fetch(self, request: httpx.Request) -> bytes:
        """The whole body of the answer to ``request`` (retried like :meth:`stream`)."""
        async with aclosing(self.stream(request)) as body:
            return b"".join([data async for data in body])

    # --- retries ----------------------------------------------------------------------------------------

    def _retry_delay(self, exchange: _Exchange, failure: _AttemptFailed) -> float | None:
        """How long to wait before the next attempt, or ``None`` for no next attempt."""
        timing = self.timing
        if exchange.yielded or failure.reason not in _RETRYABLE or exchange.attempt > timing.max_retries:
            return None
        exponential = min(timing.backoff_cap, timing.backoff_base * 2 ** (exchange.attempt - 1))
        delay = (
            failure.retry_after if failure.retry_after is not None else exponential * random.uniform(0.5, 1)
        )
        if asyncio.get_running_loop().time() + delay >= exchange.deadline:
            return None
        return delay

    def _count_retry(self, exchange: _Exchange, failure: _AttemptFailed, delay: float) -> None:
        TTS_RETRIES.labels(self.provider, failure.reason).inc()
        log.warning(
            "tts.retrying",
            provider=self.provider,
            attempt=exchange.attempt,
            reason=failure.reason,
            error=failure.message,
            delay_seconds=round(delay, 3),
        )

    def _give_up(self, exchange: _Exchange, failure: _AttemptFailed) -> TtsError:
        if exchange.yielded:
            suffix = "not retried: part of the audio was already delivered"
        else:
            suffix = f"{exchange.attempt} attempt{'s' if exchange.attempt > 1 else ''}"
        error = failure.error(suffix)
        log.warning("tts.failed", provider=self.provider, reason=failure.reason, error=str(error))
        return error

    # --- one attempt ------------------------------------------------------------------------------------

    async def _attempt(self, exchange: _Exchange, request: httpx.Request) -> AsyncGenerator[bytes, None]:
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
        try:
            async with asyncio.timeout_at(until):
                response = await self._client.send(request, stream=True)
                if response.is_success:
                    return response
                try:
                    await response.aread()
                finally:
                    await response.aclose()
        except TimeoutError as exc:
            raise self._first_byte_timeout() from exc
        except httpx.HTTPError as exc:
            url = request.url.copy_with(query=None, fragment=None, userinfo=b"")
            raise _AttemptFailed("connection_error", f"could not reach {url}: {_describe(exc)}") from exc
        raise self._status_failure(response)

    async def _next(self, chunks: AsyncIterator[bytes], until: float, received: bool) -> bytes | None:
        """The next piece of the body, ``None`` at its end."""
        try:
            async with asyncio.timeout_at(until):
                return await anext(chunks, None)
        except TimeoutError as exc:
            if not received:
                raise self._first_byte_timeout() from exc
            raise _AttemptFailed("timeout", f"the audio stalled for {self.timing.idle_timeout:g} s") from exc
        except httpx.HTTPError as exc:
            raise _AttemptFailed("broken_stream", f"the audio broke off: {_describe(exc)}") from exc

    def _status_failure(self, response: httpx.Response) -> _AttemptFailed:
        status = response.status_code
        message = f"{self.provider} answered {status}: {error_text(_body(response))}"
        retry_after = parse_retry_after(response.headers, time.time())
        if status == 429:
            return _AttemptFailed("rate_limited", f"rate limited: {message}", retry_after)
        if status >= 500 or status == 408:
            return _AttemptFailed("server_error", message, retry_after)
        return _AttemptFailed("client_error", message)

    def _first_byte_timeout(self) -> _AttemptFailed:
        return _AttemptFailed(
            "timeout", f"no audio from {self.provider} within {self.timing.first_byte_timeout:g} s"
        )


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


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
