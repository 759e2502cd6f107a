"""Speech from ElevenLabs.

``POST {base_url}/v1/text-to-speech/{voice_id}/stream?output_format=pcm_RATE`` with ``{text, model_id}`` and
the key in ``xi-api-key`` answers with raw s16le mono samples at RATE, streamed as they are made. RATE is the
rate asked for when ElevenLabs offers it (8 000, 16 000, 22 050, 24 000 Hz), otherwise the nearest offered
rate above it (24 000 Hz at most), resampled on the way through. ``GET {base_url}/v1/voices`` lists the
account's voices. Timing and retries are those of :mod:`ai_agent.tts.http_audio`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Mapping
from contextlib import aclosing
from typing import Any
from urllib.parse import quote

import httpx

from ai_agent.tts.http_audio import BACKSTOP_TIMEOUT, HttpAudio, HttpTiming, resampled
from ai_agent.tts.metrics import metered
from ai_agent.tts.types import TtsError, Voice

ELEVENLABS_PCM_RATES = (8_000, 16_000, 22_050, 24_000)  # 44 100 Hz and above need a paid tier
# Models that take a ``language_code`` (the others guess the language from the text).
LANGUAGE_CODE_MODELS = frozenset({"eleven_flash_v2_5", "eleven_turbo_v2_5"})
DEFAULT_VOICE_ID = "JBFqnCBsd6RMkjVDRZzb"  # "George", a premade voice every account has


def output_rate(sample_rate: int) -> int:
    """The PCM rate to ask ElevenLabs for, to deliver ``sample_rate``."""
    return next((rate for rate in ELEVENLABS_PCM_RATES if rate >= sample_rate), ELEVENLABS_PCM_RATES[-1])


class ElevenLabsTextToSpeech:
    """Speech through ElevenLabs' streaming endpoint. Without ``transport`` the requests go over the
    network; the client made here is closed by :meth:`aclose`."""

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str = "https://api.elevenlabs.io",
        model: str = "eleven_flash_v2_5",
        voice: str = DEFAULT_VOICE_ID,
        timing: HttpTiming | None = None,
        provider: str = "elevenlabs",
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.provider = provider
        self.model = model
        self.voice = voice
        self._client = httpx.AsyncClient(transport=transport, timeout=BACKSTOP_TIMEOUT)
        self._http = HttpAudio(self._client, provider=provider, timing=timing or HttpTiming())
        self._base_url = base_url.rstrip("/")
        self._headers = {"xi-api-key": api_key}

    def synthesize(
        self, text: str, *, voice: str | None, language: str, sample_rate: int
    ) -> AsyncGenerator[bytes, None]:
        chunks = self._synthesize(text, voice or self.voice, language, sample_rate)
        return metered(self.provider, sample_rate, chunks)

    async def voices(self, language: str | None = None) -> list[Voice]:
        """The account's voices; for ``language``, those verified for it and those that name no language."""
        request = self._client.build_request("GET", f"{self._base_url}/v1/voices", headers=self._headers)
        try:
            body = json.loads(await self._http.fetch(request))
        except ValueError as exc:
            raise TtsError(f"{self.provider} sent a voice list that is not JSON: {exc}") from exc
        wanted = _primary(language) if language else None
        return [
            voice
            for voice, languages in parse_voices(body)
            if not wanted or not languages or wanted in languages
        ]

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _synthesize(
        self, text: str, voice: str, language: str, sample_rate: int
    ) -> AsyncGenerator[bytes, None]:
        if not text.strip():
            return
        rate = output_rate(sample_rate)
        request = self._client.build_request(
            "POST",
            f"{self._base_url}/v1/text-to-speech/{quote(voice, safe='')}/stream",
            params={"output_format": f"pcm_{rate}"},
            json=self._body(text, language),
            headers=self._headers,
        )
        async with aclosing(resampled(self._http.stream(request), rate, sample_rate)) as chunks:
            async for chunk in chunks:
                yield chunk

    def _body(self, text: str, language: str) -> dict[str, Any]:
        body: dict[str, Any] = {"text": text, "model_id": self.model}
        if self.model in LANGUAGE_CODE_MODELS and language:
            body["language_code"] = _primary(language)
        return body


def parse_voices(body: Any) -> list[tuple[Voice, frozenset[str]]]:
    """The voices of a ``GET /v1/voices`` answer, each with the languages it is verified for (primary
    subtags; empty when the voice names none)."""
    items = body.get("voices") if isinstance(body, dict) else None
    if not isinstance(items, list):
        raise TtsError("the ElevenLabs voice list has no 'voices' list")
    return [_voice(item) for item in items if isinstance(item, dict) and item.get("voice_id")]


def _voice(item: Mapping[str, Any]) -> tuple[Voice, frozenset[str]]:
    labels = item.get("labels")
    labels = labels if isinstance(labels, dict) else {}
    verified = [entry for entry in item.get("verified_languages") or [] if isinstance(entry, dict)]
    tags = [str(entry["language"]) for entry in verified if entry.get("language")]
    if not tags and labels.get("language"):
        tags = [str(labels["language"])]
    languages = frozenset(_primary(tag) for tag in tags)
    language = tags[0].lower() if len(languages) == 1 else "multilingual"
    gender = str(labels["gender"]).lower() if labels.get("gender") else None
    voice = Voice(
        id=str(item["voice_id"]),
        name=str(item.get("name") or item["voice_id"]),
        language=language,
        gender=gender,
    )
    return voice, languages


def _primary(language: str) -> str:
    """``en`` of ``en-US``."""
    return language.strip().lower().replace("_", "-").split("-")[0]
