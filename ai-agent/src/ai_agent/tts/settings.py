"""Settings of text to speech, and the provider they describe.

Secrets are :class:`~pydantic.SecretStr`: masked in ``repr``, logs and ``model_dump``; the key is read out
only to build the provider's request headers.
"""

from __future__ import annotations

from typing import Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from ai_agent.tts.elevenlabs import DEFAULT_VOICE_ID, ElevenLabsTextToSpeech
from ai_agent.tts.espeak import EspeakTextToSpeech
from ai_agent.tts.http_audio import HttpTiming
from ai_agent.tts.openai_speech import OpenAITextToSpeech
from ai_agent.tts.types import TextToSpeech

Provider = Literal["espeak", "openai", "elevenlabs"]


class TtsSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    provider: Provider = "espeak"

    # espeak-ng (offline, the default)
    espeak_binary: str = Field(default="espeak-ng", min_length=1, description="program name or path")
    espeak_speed_wpm: int = Field(default=160, ge=80, le=450, description="words per minute (-s)")
    espeak_voice: str | None = Field(default=None, description="e.g. en-us+f3; none: from the language")
    espeak_max_concurrency: int = Field(default=4, ge=1, le=64, description="subprocesses at once")

    # OpenAI (or a server speaking its /audio/speech protocol)
    openai_base_url: str = "https://api.openai.com/v1"
    openai_api_key: SecretStr | None = None
    openai_model: str = Field(default="gpt-4o-mini-tts", min_length=1)
    openai_voice: str = Field(default="alloy", min_length=1)
    openai_speed: float | None = Field(default=None, ge=0.25, le=4.0)

    # ElevenLabs
    elevenlabs_base_url: str = "https://api.elevenlabs.io"
    elevenlabs_api_key: SecretStr | None = None
    elevenlabs_model: str = Field(default="eleven_flash_v2_5", min_length=1)
    elevenlabs_voice: str = Field(default=DEFAULT_VOICE_ID, min_length=1, description="a voice_id")

    # HTTP providers: timing and retries (see docs/text-to-speech.md)
    first_byte_timeout_seconds: float = Field(default=5.0, gt=0, le=120)
    total_timeout_seconds: float = Field(default=15.0, gt=0, le=600)
    idle_timeout_seconds: float = Field(default=5.0, gt=0, le=120)
    max_retries: int = Field(default=2, ge=0, le=10)
    backoff_base_seconds: float = Field(default=0.25, ge=0, le=10)
    backoff_cap_seconds: float = Field(default=2.0, ge=0, le=60)

    @model_validator(mode="after")
    def _check_provider(self) -> TtsSettings:
        if self.provider == "elevenlabs" and not _secret(self.elevenlabs_api_key):
            raise ValueError("elevenlabs_api_key is required when the provider is elevenlabs")
        base_url = {"openai": self.openai_base_url, "elevenlabs": self.elevenlabs_base_url}.get(self.provider)
        if base_url is not None and not base_url.startswith(("http://", "https://")):
            raise ValueError(
                f"the {self.provider} base URL must start with http:// or https://: {base_url!r}"
            )
        return self

    @property
    def timing(self) -> HttpTiming:
        return HttpTiming(
            first_byte_timeout=self.first_byte_timeout_seconds,
            total_timeout=self.total_timeout_seconds,
            idle_timeout=self.idle_timeout_seconds,
            max_retries=self.max_retries,
            backoff_base=self.backoff_base_seconds,
            backoff_cap=self.backoff_cap_seconds,
        )


def build_text_to_speech(
    settings: TtsSettings, *, transport: httpx.AsyncBaseTransport | None = None
) -> TextToSpeech:
    """The provider ``settings`` choose; ``transport`` (HTTP providers only) replaces the network in tests.
    Close it with ``aclose()`` when done."""
    if settings.provider == "openai":
        return OpenAITextToSpeech(
            base_url=settings.openai_base_url,
            api_key=_secret(settings.openai_api_key),
            model=settings.openai_model,
            voice=settings.openai_voice,
            speed=settings.openai_speed,
            timing=settings.timing,
            transport=transport,
        )
    if settings.provider == "elevenlabs":
        return ElevenLabsTextToSpeech(
            api_key=_secret(settings.elevenlabs_api_key) or "",
            base_url=settings.elevenlabs_base_url,
            model=settings.elevenlabs_model,
            voice=settings.elevenlabs_voice,
            timing=settings.timing,
            transport=transport,
        )
    return EspeakTextToSpeech(
        binary=settings.espeak_binary,
        speed_wpm=settings.espeak_speed_wpm,
        voice=settings.espeak_voice,
        max_concurrency=settings.espeak_max_concurrency,
    )


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None and value.get_secret_value() else None
