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
from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

import httpx
import structlog

from ai_agent.llm.metrics import LLM_FIRST_TOKEN, LLM_REQUESTS, LLM_RETRIES
from ai_agent.llm.openai_wire import ChunkDecoder, ProtocolError, decode_completion, encode_request
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
from ai_agent.providers.http import (
    AttemptFailed,
    Exchange,
    Retries,
    RetryPolicy,
    describe,
    error_text,
    next_within,
    send_streaming,
)

log = structlog.get_logger(__name__)


def _llm_error(failure: AttemptFailed, text: str) -> LlmError:
    if failure.reason == "rate_limited":
        return LlmRateLimitedError(text, failure.retry_after)
    if failure.reason == "timeout":
        return LlmTimeoutError(text)
    return LlmError(text)


@dataclass(slots=True)
class _Turn(Exchange):
    """One call of :meth:`OpenAIChatModel.stream`; the first event must reach the caller by ``deadline``."""

    first_token_seen: bool = False
    ended: str = "cancelled"  # unless the answer completes, or an unexpected error ends it

    @property
    def outcome(self) -> str:
        return self.failure.reason if self.failure is not None else self.ended


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
        self._retries = Retries(
            kind="llm",
            provider=provider,
            policy=RetryPolicy(max_retries, backoff_base, backoff_cap),
            counter=LLM_RETRIES,
            error=_llm_error,
            log=log,
            log_fields={"model": model},
        )
        self._client = client
        self._url = f"{base_url.rstrip('/')}/chat/completions" if base_url else "chat/completions"
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._options = _options(temperature, max_tokens, extra_body)

    async def stream(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec]
    ) -> AsyncGenerator[LlmEvent, None]:
        body = encode_request(self.model, messages, tools, self._options)
        turn = _Turn.starting(self.total_timeout)
        try:
            async with aclosing(self._retries.stream(turn, lambda: self._attempt(turn, body))) as events:
                async for event in events:
                    if isinstance(event, Done):
                        self._answered(turn, event)
                    yield event
        except Exception:
            turn.ended = "error" if turn.ended == "cancelled" else turn.ended  # not an LlmError: a bug
            raise
        finally:
            LLM_REQUESTS.labels(self.provider, turn.outcome).inc()

    def _answered(self, turn: _Turn, done: Done) -> None:
        turn.ended = "ok"
        log.debug(
            "llm.answered",
            provider=self.provider,
            model=self.model,
            attempts=turn.attempt,
            finish_reason=done.finish_reason,
            seconds=round(asyncio.get_running_loop().time() - turn.started, 3),
        )

    # --- one attempt ----------------------------------------------------------------------------------------

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
        return await send_streaming(
            self._client,
            request,
            provider=self.provider,
            until=first_token_by,
            late=self._first_token_timeout,
        )

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
            raise AttemptFailed("broken_stream", f"the answer broke off: {describe(exc)}") from exc
        except (ValueError, ProtocolError) as exc:
            raise AttemptFailed("bad_response", f"unreadable answer from {self.provider}: {exc}") from exc
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
            raise AttemptFailed("broken_stream", "the stream ended before the answer was complete")
        for event in decoder.finish():
            yield event

    async def _next_data(self, payloads: AsyncIterator[str], until: float, started: bool) -> str | None:
        """The next event's data, ``None`` at the end of the stream."""
        late = self._stalled if started else self._first_token_timeout
        return await next_within(payloads, until, late, "the stream broke off")

    def _decode(self, decoder: ChunkDecoder, data: str) -> list[LlmEvent]:
        try:
            chunk = json.loads(data)
            if isinstance(chunk, dict) and chunk.get("error"):
                raise AttemptFailed("server_error", f"{self.provider} reported an error: {error_text(chunk)}")
            return decoder.feed(chunk)
        except (ValueError, ProtocolError) as exc:
            raise AttemptFailed("bad_response", f"unreadable chunk from {self.provider}: {exc}") from exc

    # --- small helpers ----------------------------------------------------------------------------------

    def _idle_deadline(self) -> float:
        return asyncio.get_running_loop().time() + self.idle_timeout

    def _first_token_timeout(self) -> AttemptFailed:
        return AttemptFailed(
            "timeout", f"no answer from {self.provider} within {self.first_token_timeout:g} s"
        )

    def _stalled(self) -> AttemptFailed:
        return AttemptFailed("timeout", f"the answer stalled for {self.idle_timeout:g} s")

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
