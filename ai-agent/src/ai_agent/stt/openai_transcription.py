"""Speech to text through an OpenAI-compatible transcription API (OpenAI, faster-whisper-server / Speaches,
vLLM, LocalAI, …): ``POST {base_url}/audio/transcriptions``.

A session buffers the turn's audio; at the end of the turn it posts one multipart request: ``file`` (a WAV
file: PCM 16-bit mono at the call's rate), ``model``, ``language`` (ISO 639-1, ``"en-US"`` → ``"en"``),
``response_format=json`` and ``prompt`` when a vocabulary hint is set, with ``Authorization: Bearer <key>``
when a key is set. The answer's ``text`` is the transcript. A turn shorter than 0.1 s is not sent (OpenAI
refuses it as too short): its transcript is ``""``.

Timing: ``request_timeout`` bounds one attempt (connecting included), ``total_timeout`` every attempt and
wait of the turn. A 429 (after its ``Retry-After``), a 5xx or 408, a connection error and a timeout are
retried with exponential backoff and jitter, ``max_attempts`` attempts at most; then
:class:`SttRateLimitedError`, :class:`SttTimeoutError` or :class:`SttError` is raised. Other answers
(400, 401, …) are not retried. See ``docs/speech-to-text.md``.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Sequence
from typing import Any

import httpx
import structlog

from ai_agent.llm.openai_wire import parse_retry_after
from ai_agent.stt.audio import MIN_TURN_SECONDS, base_language, prompt_with, seconds_of, wav_file
from ai_agent.stt.metrics import STT_RETRIES, TurnMetrics
from ai_agent.stt.types import SttError, SttRateLimitedError, SttTimeoutError, Transcript

log = structlog.get_logger(__name__)

_RETRYABLE = frozenset({"rate_limited", "server_error", "connection_error", "timeout"})


class _AttemptFailed(Exception):
    """One attempt failed; ``reason`` is the metric label and decides retrying and the error raised."""

    def __init__(self, reason: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.retry_after = retry_after

    def error(self, attempts: int) -> SttError:
        text = f"{self.message} ({attempts} attempt{'s' if attempts > 1 else ''})"
        if self.reason == "rate_limited":
            return SttRateLimitedError(text, self.retry_after)
        if self.reason == "timeout":
            return SttTimeoutError(text)
        return SttError(text)


class OpenAITranscription:
    """Transcribes turns through ``{base_url}/audio/transcriptions``. The HTTP client is made on first use
    (with ``transport`` when given, e.g. for tests) and closed by :meth:`aclose`."""

    def __init__(
        self,
        *,
        base_url: str = "https://api.openai.com/v1",
        model: str = "whisper-1",
        api_key: str | None = None,
        prompt: str | None = None,
        provider: str = "openai",
        request_timeout: float = 10.0,
        total_timeout: float = 20.0,
        max_attempts: int = 3,
        backoff_base: float = 0.25,
        backoff_cap: float = 2.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.model = model
        self.prompt = prompt or None
        self.provider = provider
        self.request_timeout = request_timeout
        self.total_timeout = total_timeout
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.url = f"{base_url.rstrip('/')}/audio/transcriptions"
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._transport = transport
        self._client: httpx.AsyncClient | None = None

    def __repr__(self) -> str:  # the key lives in the headers: never shown
        return f"OpenAITranscription(url={self.url!r}, model={self.model!r})"

    async def load(self) -> None:
        """Nothing to load."""

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def open(
        self, *, sample_rate: int, language: str, vocabulary: Sequence[str] = ()
    ) -> OpenAITranscriptionSession:
        if sample_rate <= 0:
            raise ValueError(f"sample_rate must be positive, got {sample_rate}")
        return OpenAITranscriptionSession(self, sample_rate, language, prompt_with(self.prompt, vocabulary))

    async def transcribe(
        self, pcm: bytes, sample_rate: int, language: str, prompt: str | None = None
    ) -> Transcript:
        """One utterance of 16-bit little-endian mono PCM, with the retries described above."""
        code = base_language(language)
        data = {"model": self.model, "language": code, "response_format": "json"}
        if prompt or self.prompt:
            data["prompt"] = prompt or self.prompt or ""
        files = {"file": ("speech.wav", wav_file(pcm, sample_rate), "audio/wav")}
        deadline = asyncio.get_running_loop().time() + self.total_timeout
        attempt = 1
        while True:
            try:
                return Transcript(await self._attempt(data, files, deadline), code)
            except _AttemptFailed as failure:
                delay = self._retry_delay(attempt, failure, deadline)
                if delay is None:
                    raise self._give_up(attempt, failure) from failure.__cause__
                self._count_retry(attempt, failure, delay)
                await asyncio.sleep(delay)
                attempt += 1

    # --- retries --------------------------------------------------------------------------------------

    def _retry_delay(self, attempt: int, failure: _AttemptFailed, deadline: float) -> float | None:
        """How long to wait before the next attempt, or ``None`` for no next attempt."""
        if failure.reason not in _RETRYABLE or attempt >= self.max_attempts:
            return None
        exponential = min(self.backoff_cap, self.backoff_base * 2.0 ** (attempt - 1))
        delay = (
            failure.retry_after if failure.retry_after is not None else exponential * random.uniform(0.5, 1)
        )
        if asyncio.get_running_loop().time() + delay >= deadline:
            return None
        return delay

    def _count_retry(self, attempt: int, failure: _AttemptFailed, delay: float) -> None:
        STT_RETRIES.labels(self.provider, failure.reason).inc()
        log.warning(
            "stt.retrying",
            provider=self.provider,
            attempt=attempt,
            reason=failure.reason,
            error=failure.message,
            delay_seconds=round(delay, 3),
        )

    def _give_up(self, attempt: int, failure: _AttemptFailed) -> SttError:
        error = failure.error(attempt)
        log.warning("stt.failed", provider=self.provider, reason=failure.reason, error=str(error))
        return error

    # --- one attempt ----------------------------------------------------------------------------------

    async def _attempt(self, data: dict[str, str], files: dict[str, Any], deadline: float) -> str:
        limit = min(self.request_timeout, deadline - asyncio.get_running_loop().time())
        try:
            async with asyncio.timeout(max(limit, 0.0)):
                response = await self._http().post(
                    self.url, data=data, files=files, headers=self._headers, timeout=None
                )
        except (TimeoutError, httpx.TimeoutException) as exc:
            raise _AttemptFailed("timeout", f"no answer from {self.provider} within {limit:.3g} s") from exc
        except httpx.HTTPError as exc:
            raise _AttemptFailed(
                "connection_error", f"could not reach {self.provider}: {_describe(exc)}"
            ) from exc
        if not response.is_success:
            raise self._status_failure(response)
        return self._text(response)

    def _status_failure(self, response: httpx.Response) -> _AttemptFailed:
        status = response.status_code
        message = f"{self.provider} answered {status}: {_error_text(response)}"
        retry_after = parse_retry_after(response.headers, time.time())
        if status == 429:
            return _AttemptFailed("rate_limited", f"rate limited: {message}", retry_after)
        if status >= 500 or status == 408:
            return _AttemptFailed("server_error", message, retry_after)
        return _AttemptFailed("client_error", message)

    def _text(self, response: httpx.Response) -> str:
        try:
            body = response.json()
        except ValueError as exc:
            raise _AttemptFailed("bad_response", f"unreadable answer from {self.provider}") from exc
        text = body.get("text") if isinstance(body, dict) else None
        if not isinstance(text, str):
            raise _AttemptFailed("bad_response", f"the answer from {self.provider} has no text")
        return text.strip()

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(transport=self._transport)
        return self._client


def _error_text(response: httpx.Response) -> str:
    """The server's error message, shortened; never the request (which holds the key in a header)."""
    try:
        body = response.json()
        error = body.get("error") if isinstance(body, dict) else None
        message = error.get("message") if isinstance(error, dict) else error or body
        return str(message)[:300]
    except ValueError:
        return response.text[:300]


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class OpenAITranscriptionSession:
    """Buffers a turn's audio and posts it at the end of the turn."""

    def __init__(
        self, engine: OpenAITranscription, sample_rate: int, language: str, prompt: str | None = None
    ) -> None:
        self.prompt = prompt
        self.sample_rate = sample_rate
        self.language = language
        self._engine = engine
        self._audio = bytearray()
        self._closed = False

    async def feed(self, pcm: bytes) -> None:
        if not self._closed:
            self._audio += pcm

    async def end_of_turn(self) -> Transcript:
        if self._closed:
            raise SttError("the speech-to-text session is closed")
        pcm = bytes(self._audio)
        self._audio.clear()
        if seconds_of(len(pcm), self.sample_rate) < MIN_TURN_SECONDS:
            return Transcript("")
        with TurnMetrics(self._engine.provider):
            return await self._engine.transcribe(pcm, self.sample_rate, self.language, self.prompt)

    async def discard(self) -> None:
        self._audio.clear()

    async def close(self) -> None:
        self._closed = True
        self._audio.clear()
