"""A :class:`~ai_agent.llm.types.LanguageModel` for servers speaking OpenAI's Chat Completions protocol
(OpenAI, Ollama, llama.cpp, vLLM, LiteLLM, …): ``POST {base_url}/chat/completions`` with ``stream: true``.

Timing, because a caller hears every second of it:

- ``first_token_timeout`` bounds one attempt from sending the request to the first text or tool-call
  fragment (connecting and waiting for headers included);
- ``total_timeout`` bounds everything before the first event reaches the caller: attempts and the waits
  between them. No retry starts that could not begin before it;
- ``idle_timeout`` bounds the silence between two chunks once the answer flows. A flowing answer is never
  cut off otherwise (``max_tokens`` bounds its length).

Before anything has been yielded, a 429 (after its ``Retry-After``), a 5xx, a connection error, a timeout,
an error event or a break in the stream are retried with exponential backoff and jitter, ``max_retries``
times at most. Once text has been yielded the caller may already have spoken it, so nothing is retried:
the error is raised. See ``docs/llm.md``.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

import httpx
import structlog

from ai_agent.llm.metrics import LLM_FIRST_TOKEN, LLM_REQUESTS, LLM_RETRIES
from ai_agent.llm.openai_wire import (
    ChunkDecoder,
    ProtocolError,
    decode_completion,
    encode_request,
    error_text,
    parse_retry_after,
)
from ai_agent.llm.sse import sse_data
from ai_agent.llm.types import (
    Done,
    LlmError,
    LlmEvent,
    LlmRateLimitedError,
    LlmTimeoutError,
    Message,
    ToolSpec,
)

log = structlog.get_logger(__name__)

_RETRYABLE = frozenset({"rate_limited", "server_error", "connection_error", "timeout", "broken_stream"})


class _AttemptFailed(Exception):
    """One attempt failed; ``reason`` is the metric label and decides retrying and the error raised."""

    def __init__(self, reason: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.retry_after = retry_after

    def error(self, suffix: str) -> LlmError:
        text = f"{self.message} ({suffix})"
        if self.reason == "rate_limited":
            return LlmRateLimitedError(text, self.retry_after)
        if self.reason == "timeout":
            return LlmTimeoutError(text)
        return LlmError(text)


@dataclass(slots=True)
class _Turn:
    """One call of :meth:`OpenAIChatModel.stream`; times are the event loop's clock."""

    started: float
    deadline: float  # the first event must reach the caller by then
    attempt: int = 1
    yielded: bool = False
    first_token_seen: bool = False
    outcome: str = "cancelled"  # unless the answer completes or fails


class OpenAIChatModel:
    """Answers through an OpenAI-compatible Chat Completions server, using ``client`` (its transport, and
    its ``base_url`` unless ``base_url`` is given; the client is not closed here)."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        model: str,
        api_key: str | None = None,
        base_url: str | None = None,
        provider: str = "openai",
        temperature: float | None = None,
        max_tokens: int | None = None,
        extra_body: Mapping[str, Any] | None = None,
        first_token_timeout: float = 5.0,
        total_timeout: float = 15.0,
        idle_timeout: float = 10.0,
        max_retries: int = 2,
        backoff_base: float = 0.25,
        backoff_cap: float = 2.0,
    ) -> None:
        if not base_url and not client.base_url.host:
            raise ValueError("give base_url, or a client with a base_url (e.g. https://api.openai.com/v1)")
        self.model = model
        self.provider = provider
        self.first_token_timeout = first_token_timeout
        self.total_timeout = total_timeout
        self.idle_timeout = idle_timeout
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self._client = client
        self._url = f"{base_url.rstrip('/')}/chat/completions" if base_url else "chat/completions"
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._options = _options(temperature, max_tokens, extra_body)

    async def stream(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec]
    ) -> AsyncGenerator[LlmEvent, None]:
        body = encode_request(self.model, messages, tools, self._options)
        now = asyncio.get_running_loop().time()
        turn = _Turn(started=now, deadline=now + self.total_timeout)
        try:
            async with aclosing(self._answer(turn, body)) as events:
                async for event in events:
                    turn.yielded = True
                    if isinstance(event, Done):
                        self._answered(turn, event)
                    yield event
        except Exception:
            turn.outcome = "error" if turn.outcome == "cancelled" else turn.outcome  # not an LlmError: a bug
            raise
        finally:
            LLM_REQUESTS.labels(self.provider, turn.outcome).inc()

    def _answered(self, turn: _Turn, done: Done) -> None:
        turn.outcome = "ok"
        log.debug(
            "llm.answered",
            provider=self.provider,
            model=self.model,
            attempts=turn.attempt,
            finish_reason=done.finish_reason,
            seconds=round(asyncio.get_running_loop().time() - turn.started, 3),
        )

    # --- attempts and retries -------------------------------------------------------------------------

    async def _answer(self, turn: _Turn, body: dict[str, Any]) -> AsyncGenerator[LlmEvent, None]:
        while True:
            try:
                async with aclosing(self._attempt(turn, body)) as events:
                    async for event in events:
                        yield event
                return
            except _AttemptFailed as failure:
                delay = self._retry_delay(turn, failure)
                if delay is None:
                    turn.outcome = failure.reason
                    raise self._give_up(turn, failure) from failure.__cause__
                self._count_retry(turn, failure, delay)
                await asyncio.sleep(delay)
                turn.attempt += 1

    def _retry_delay(self, turn: _Turn, failure: _AttemptFailed) -> float | None:
        """How long to wait before the next attempt, or ``None`` for no next attempt."""
        if turn.yielded or failure.reason not in _RETRYABLE or turn.attempt > self.max_retries:
            return None
        exponential = min(self.backoff_cap, self.backoff_base * 2 ** (turn.attempt - 1))
        delay = (
            failure.retry_after if failure.retry_after is not None else exponential * random.uniform(0.5, 1)
        )
        if asyncio.get_running_loop().time() + delay >= turn.deadline:
            return None
        return delay

    def _count_retry(self, turn: _Turn, failure: _AttemptFailed, delay: float) -> None:
        LLM_RETRIES.labels(self.provider, failure.reason).inc()
        log.warning(
            "llm.retrying",
            provider=self.provider,
            model=self.model,
            attempt=turn.attempt,
            reason=failure.reason,
            error=failure.message,
            delay_seconds=round(delay, 3),
        )

    def _give_up(self, turn: _Turn, failure: _AttemptFailed) -> LlmError:
        if turn.yielded:
            suffix = "not retried: part of the answer was already delivered"
        else:
            suffix = f"{turn.attempt} attempt{'s' if turn.attempt > 1 else ''}"
        error = failure.error(suffix)
        log.warning(
            "llm.failed", provider=self.provider, model=self.model, reason=failure.reason, error=str(error)
        )
        return error

    async def _attempt(self, turn: _Turn, body: dict[str, Any]) -> AsyncGenerator[LlmEvent, None]:
        first_token_by = min(asyncio.get_running_loop().time() + self.first_token_timeout, turn.deadline)
        response = await self._send(body, first_token_by)
        try:
            if "json" in response.headers.get("content-type", ""):
                for event in await self._read_completion(turn, response, first_token_by):
                    yield event
            else:
                async with aclosing(self._read_stream(turn, response, first_token_by)) as events:
                    async for event in events:
                        yield event
        finally:
            await response.aclose()

    # --- HTTP -------------------------------------------------------------------------------------------

    async def _send(self, body: dict[str, Any], first_token_by: float) -> httpx.Response:
        """The response once its status is 2xx (headers read, body not yet)."""
        request = self._client.build_request(
            "POST", self._url, json=body, headers=self._headers, timeout=None
        )
        try:
            async with asyncio.timeout_at(first_token_by):
                response = await self._client.send(request, stream=True)
                if response.is_success:
                    return response
                try:
                    await response.aread()
                finally:
                    await response.aclose()
        except TimeoutError as exc:
            raise self._first_token_timeout() from exc
        except httpx.HTTPError as exc:
            raise _AttemptFailed(
                "connection_error", f"could not reach {_safe_url(request.url)}: {_describe(exc)}"
            ) from exc
        raise self._status_failure(response)

    def _status_failure(self, response: httpx.Response) -> _AttemptFailed:
        status = response.status_code
        message = f"{self.provider} answered {status}: {error_text(_body(response))}"
        retry_after = parse_retry_after(response.headers, time.time())
        if status == 429:
            return _AttemptFailed("rate_limited", f"rate limited: {message}", retry_after)
        if status >= 500 or status == 408:
            return _AttemptFailed("server_error", message, retry_after)
        return _AttemptFailed("client_error", message)

    async def _read_completion(
        self, turn: _Turn, response: httpx.Response, first_token_by: float
    ) -> list[LlmEvent]:
        """A server that ignored ``stream`` and answered with one JSON completion."""
        try:
            async with asyncio.timeout_at(first_token_by):
                await response.aread()
            events = decode_completion(response.json())
        except TimeoutError as exc:
            raise self._first_token_timeout() from exc
        except httpx.HTTPError as exc:
            raise _AttemptFailed("broken_stream", f"the answer broke off: {_describe(exc)}") from exc
        except (ValueError, ProtocolError) as exc:
            raise _AttemptFailed("bad_response", f"unreadable answer from {self.provider}: {exc}") from exc
        self._first_token(turn)
        return events

    async def _read_stream(
        self, turn: _Turn, response: httpx.Response, first_token_by: float
    ) -> AsyncGenerator[LlmEvent, None]:
        decoder = ChunkDecoder()
        async with aclosing(sse_data(response.aiter_lines())) as payloads:
            while True:
                until = self._idle_deadline() if decoder.started else first_token_by
                data = await self._next_data(payloads, until, decoder.started)
                if data is None or data == "[DONE]":
                    break
                for event in self._decode(decoder, data):
                    yield event
                if decoder.started:
                    self._first_token(turn)
        if data is None and decoder.finish_reason is None:
            raise _AttemptFailed("broken_stream", "the stream ended before the answer was complete")
        for event in decoder.finish():
            yield event

    async def _next_data(self, payloads: AsyncIterator[str], until: float, started: bool) -> str | None:
        """The next event's data, ``None`` at the end of the stream."""
        try:
            async with asyncio.timeout_at(until):
                return await anext(payloads, None)
        except TimeoutError as exc:
            if not started:
                raise self._first_token_timeout() from exc
            raise _AttemptFailed("timeout", f"the answer stalled for {self.idle_timeout:g} s") from exc
        except httpx.HTTPError as exc:
            raise _AttemptFailed("broken_stream", f"the stream broke off: {_describe(exc)}") from exc

    def _decode(self, decoder: ChunkDecoder, data: str) -> list[LlmEvent]:
        try:
            chunk = json.loads(data)
            if isinstance(chunk, dict) and chunk.get("error"):
                raise _AttemptFailed(
                    "server_error", f"{self.provider} reported an error: {error_text(chunk)}"
                )
            return decoder.feed(chunk)
        except (ValueError, ProtocolError) as exc:
            raise _AttemptFailed("bad_response", f"unreadable chunk from {self.provider}: {exc}") from exc

    # --- small helpers ----------------------------------------------------------------------------------

    def _idle_deadline(self) -> float:
        return asyncio.get_running_loop().time() + self.idle_timeout

    def _first_token_timeout(self) -> _AttemptFailed:
        return _AttemptFailed(
            "timeout", f"no answer from {self.provider} within {self.first_token_timeout:g} s"
        )

    def _first_token(self, turn: _Turn) -> None:
        if not turn.first_token_seen:
            turn.first_token_seen = True
            LLM_FIRST_TOKEN.labels(self.provider).observe(asyncio.get_running_loop().time() - turn.started)


def _options(
    temperature: float | None, max_tokens: int | None, extra: Mapping[str, Any] | None
) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if temperature is not None:
        options["temperature"] = temperature
    if max_tokens is not None:
        options["max_tokens"] = max_tokens
    return {**options, **(extra or {})}


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


def _safe_url(url: httpx.URL) -> str:
    """The URL without user info or query string, either of which may hold a key."""
    return str(url.copy_with(query=None, fragment=None, userinfo=b""))


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
