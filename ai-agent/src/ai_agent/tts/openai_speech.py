"""Speech from OpenAI's text-to-speech API, or any server speaking its protocol.

``POST {base_url}/audio/speech`` with ``{model, input, voice, response_format: "pcm"}`` and
``Authorization: Bearer KEY`` answers with raw 24 kHz s16le mono samples, streamed as they are made (no
header). They are resampled to the rate asked for on the way through. Timing and retries are those of
:mod:`ai_agent.tts.http_audio`. OpenAI's voices speak every language its models do, so the voice does not
depend on the language.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Any

import httpx

from ai_agent.tts.http_audio import BACKSTOP_TIMEOUT, HttpAudio, HttpTiming, resampled
from ai_agent.tts.metrics import metered
from ai_agent.tts.types import TtsError, Voice

OPENAI_PCM_RATE = 24_000
OPENAI_MAX_INPUT = 4096  # characters
# The built-in voices (tts-1 and tts-1-hd have the first nine; ballad and verse need gpt-4o-mini-tts).
OPENAI_VOICES = (
    "alloy",
    "ash",
    "coral",
    "echo",
    "fable",
    "nova",
    "onyx",
    "sage",
    "shimmer",
    "ballad",
    "verse",
)


class OpenAITextToSpeech:
    """Speech through OpenAI's ``/audio/speech``. ``speed`` (0.25 to 4.0) is sent only when given. Without
    ``transport`` the requests go over the network; the client made here is closed by :meth:`aclose`."""

    def __init__(
        self,
        *,
        base_url: str = "https://api.openai.com/v1",
        api_key: str | None = None,
        model: str = "gpt-4o-mini-tts",
        voice: str = "alloy",
        speed: float | None = None,
        timing: HttpTiming | None = None,
        provider: str = "openai",
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.provider = provider
        self.model = model
        self.voice = voice
        self.speed = speed
        self._client = httpx.AsyncClient(transport=transport, timeout=BACKSTOP_TIMEOUT)
        self._http = HttpAudio(self._client, provider=provider, timing=timing or HttpTiming())
        self._url = f"{base_url.rstrip('/')}/audio/speech"
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}

    def synthesize(
        self, text: str, *, voice: str | None, language: str, sample_rate: int
    ) -> AsyncGenerator[bytes, None]:
        return metered(self.provider, sample_rate, self._synthesize(text, voice or self.voice, sample_rate))

    async def voices(self, language: str | None = None) -> list[Voice]:
        """The built-in voices; each speaks every language, so ``language`` filters nothing out."""
        return [Voice(id=name, name=name.capitalize(), language="multilingual") for name in OPENAI_VOICES]

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _synthesize(self, text: str, voice: str, sample_rate: int) -> AsyncGenerator[bytes, None]:
        if not text.strip():
            return
        if len(text) > OPENAI_MAX_INPUT:
            raise TtsError(
                f"{self.provider} speaks at most {OPENAI_MAX_INPUT} characters at once, not {len(text)}"
            )
        request = self._client.build_request(
            "POST", self._url, json=self._body(text, voice), headers=self._headers
        )
        async with aclosing(resampled(self._http.stream(request), OPENAI_PCM_RATE, sample_rate)) as chunks:
            async for chunk in chunks:
                yield chunk

    def _body(self, text: str, voice: str) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.model, "input": text, "voice": voice, "response_format": "pcm"}
        if self.speed is not None:
            body["speed"] = self.speed
        return body
