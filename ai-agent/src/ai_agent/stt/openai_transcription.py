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
from collections.abc import Sequence
from typing import Any

import httpx
import structlog

from ai_agent.providers.http import (
    AttemptFailed,
    Exchange,
    Retries,
    RetryPolicy,
    describe,
    status_failure,
)
from ai_agent.stt.audio import base_language, prompt_with, wav_file
from ai_agent.stt.buffered import BufferedSession
from ai_agent.stt.metrics import STT_RETRIES
from ai_agent.stt.types import SttError, SttRateLimitedError, SttTimeoutError, Transcript

log = structlog.get_logger(__name__)


def _stt_error(failure: AttemptFailed, text: str) -> SttError:
    if failure.reason == "rate_limited":
        return SttRateLimitedError(text, failure.retry_after)
    if failure.reason == "timeout":
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
        self._retries = Retries(
            kind="stt",
            provider=provider,
            policy=RetryPolicy(max_attempts - 1, backoff_base, backoff_cap),
            counter=STT_RETRIES,
            error=_stt_error,
            log=log,
        )
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
    ) -> BufferedSession:
        """A session that buffers each turn's audio and posts it at the end of the turn."""
        prompt = prompt_with(self.prompt, vocabulary)
        return BufferedSession(self.transcribe, self.provider, sample_rate, language, prompt)

    async def transcribe(
        self, pcm: bytes, sample_rate: int, language: str, prompt: str | None = None
    ) -> Transcript:
        """One utterance of 16-bit little-endian mono PCM, with the retries described above."""
        code = base_language(language)
        data = {"model": self.model, "language": code, "response_format": "json"}
        if prompt or self.prompt:
            data["prompt"] = prompt or self.prompt or ""
        files = {"file": ("speech.wav", wav_file(pcm, sample_rate), "audio/wav")}
        exchange = Exchange.starting(self.total_timeout)
        text = await self._retries.call(exchange, lambda: self._attempt(data, files, exchange.deadline))
        return Transcript(text, code)

    # --- one attempt ----------------------------------------------------------------------------------

    async def _attempt(self, data: dict[str, str], files: dict[str, Any], deadline: float) -> str:
        limit = min(self.request_timeout, deadline - asyncio.get_running_loop().time())
        try:
            async with asyncio.timeout(max(limit, 0.0)):
                response = await self._http().post(
                    self.url, data=data, files=files, headers=self._headers, timeout=None
                )
        except (TimeoutError, httpx.TimeoutException) as exc:
            raise AttemptFailed("timeout", f"no answer from {self.provider} within {limit:.3g} s") from exc
        except httpx.HTTPError as exc:
            raise AttemptFailed(
                "connection_error", f"could not reach {self.provider}: {describe(exc)}"
            ) from exc
        if not response.is_success:
            raise status_failure(self.provider, response, _error_text(response))
        return self._text(response)

    def _text(self, response: httpx.Response) -> str:
        try:
            body = response.json()
        except ValueError as exc:
            raise AttemptFailed("bad_response", f"unreadable answer from {self.provider}") from exc
        text = body.get("text") if isinstance(body, dict) else None
        if not isinstance(text, str):
            raise AttemptFailed("bad_response", f"the answer from {self.provider} has no text")
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
