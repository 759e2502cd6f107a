"""The voices of the speech provider (``/api/v1/voices``) and a spoken sample of each, as WAV."""

from __future__ import annotations

import math
from collections.abc import Awaitable
from typing import Annotated, Any, TypeVar

import structlog
from fastapi import APIRouter, Path, Query, Response

from ai_agent.dependencies import TextToSpeechDep
from ai_agent.tts import TextToSpeech, TtsError, TtsRateLimitedError, preview_wav
from ai_agent.tts import Voice as ProviderVoice
from dialplane.api.agent import VOICE_PREVIEW, VOICES, LanguageTag, Voice, VoiceList, VoicePreviewQuery
from dialplane.errors import DialplaneError, NotFound, ServiceUnavailable
from dialplane.internal_auth import Principal, requires

log = structlog.get_logger(__name__)
router = APIRouter(tags=["agent"])

CanRead = Annotated[Principal, requires("agents:read")]
VoiceId = Annotated[str, Path(min_length=1, max_length=100)]
WAV: dict[int | str, dict[str, Any]] = {200: {"content": {"audio/wav": {}}, "description": "a WAV file"}}
FALLBACK_LANGUAGE = "en"
DEFAULT_RETRY_AFTER_SECONDS = 2
T = TypeVar("T")


class SpeechFailed(DialplaneError):
    status, code, title = 502, "speech_failed", "Speech failed"


@router.get(VOICES, response_model=VoiceList)
async def list_voices(
    _: CanRead, tts: TextToSpeechDep, language: Annotated[LanguageTag | None, Query()] = None
) -> VoiceList:
    """The provider's voices; with ``language``, only those for it."""
    voices = await _speech(tts.voices(language))
    return VoiceList(items=[_voice_view(voice) for voice in voices])


@router.get(VOICE_PREVIEW, response_class=Response, responses=WAV)
async def preview_voice(
    _: CanRead, voice_id: VoiceId, query: Annotated[VoicePreviewQuery, Query()], tts: TextToSpeechDep
) -> Response:
    """A short sample (``text``, or a sentence in the language) spoken by the voice; 404 for a voice the
    provider does not list."""
    voice = await _find(tts, voice_id)
    language = query.language or _spoken_language(voice)
    audio = await _speech(preview_wav(tts, voice.id, language, query.text))
    return Response(audio, media_type="audio/wav")


def _voice_view(voice: ProviderVoice) -> Voice:
    return Voice(id=voice.id, name=voice.name, language=voice.language, gender=voice.gender)


def _spoken_language(voice: ProviderVoice) -> str:
    return FALLBACK_LANGUAGE if voice.language == "multilingual" else voice.language


async def _find(tts: TextToSpeech, voice_id: str) -> ProviderVoice:
    voices = await _speech(tts.voices())
    for voice in voices:
        if voice.id == voice_id:
            return voice
    detail = f"the speech provider has no voice {voice_id!r} (GET {VOICES} lists them)"
    raise NotFound(detail, code="voice_not_found")


async def _speech(work: Awaitable[T]) -> T:
    """``work``'s result; a provider failure as 503 (worth retrying) or 502 problem."""
    try:
        return await work
    except TtsError as exc:
        log.warning("speech_provider_failed", error=str(exc), retryable=exc.retryable)
        if not exc.retryable:
            raise SpeechFailed(f"the speech provider failed: {exc}") from exc
        wait = exc.retry_after_seconds if isinstance(exc, TtsRateLimitedError) else None
        raise ServiceUnavailable(
            "the speech provider is busy or slow; try again shortly",
            code="speech_unavailable",
            headers={"Retry-After": str(math.ceil(wait or DEFAULT_RETRY_AFTER_SECONDS))},
        ) from exc
