"""ElevenLabsTextToSpeech against the local ElevenLabs server over real HTTP: the request and its output
format, resampling when the rate asked for is not offered, retries, timeouts, and the voice list."""

from __future__ import annotations

from contextlib import aclosing
from typing import Any

import pytest

from ai_agent.audio import duration_seconds
from ai_agent.audio.testing import peak_frequency
from ai_agent.tts.elevenlabs import ElevenLabsTextToSpeech, output_rate
from ai_agent.tts.http_audio import HttpTiming
from ai_agent.tts.testing import ElevenLabsServer, HttpError, Speech, rate_limited, stall
from ai_agent.tts.types import TtsError, TtsTimeoutError, Voice

FAST = HttpTiming(
    first_byte_timeout=0.5, total_timeout=5.0, idle_timeout=0.5, backoff_base=0.01, backoff_cap=0.02
)


def make_tts(server: ElevenLabsServer, **options: Any) -> ElevenLabsTextToSpeech:
    defaults: dict[str, Any] = {"base_url": server.base_url, "api_key": server.api_key, "timing": FAST}
    return ElevenLabsTextToSpeech(**(defaults | options))


async def speak(
    tts: ElevenLabsTextToSpeech, *, voice: str | None = None, language: str = "en", sample_rate: int = 16_000
) -> bytes:
    try:
        chunks = tts.synthesize("Hello there.", voice=voice, language=language, sample_rate=sample_rate)
        async with aclosing(chunks):
            return b"".join([chunk async for chunk in chunks])
    finally:
        await tts.aclose()


@pytest.mark.parametrize(
    ("sample_rate", "asked"),
    [(16_000, "pcm_16000"), (8_000, "pcm_8000"), (48_000, "pcm_24000"), (11_025, "pcm_16000")],
)
async def test_a_440_hz_tone_comes_out_at_440_hz_at_the_rate_asked_for(
    elevenlabs_server: ElevenLabsServer, sample_rate: int, asked: str
) -> None:
    elevenlabs_server.script(Speech(seconds=1.0, frequency=440, chunk_bytes=777))
    pcm = await speak(make_tts(elevenlabs_server), sample_rate=sample_rate)
    assert elevenlabs_server.requests[0].query == {"output_format": asked}
    assert abs(len(pcm) // 2 - sample_rate) <= 4
    assert peak_frequency(pcm, sample_rate) == pytest.approx(440, abs=1.0)


def test_output_rate() -> None:
    assert [output_rate(rate) for rate in (8_000, 12_000, 16_000, 22_050, 24_000, 44_100)] == [
        8_000,
        16_000,
        16_000,
        22_050,
        24_000,
        24_000,
    ]


async def test_the_request_follows_the_protocol(elevenlabs_server: ElevenLabsServer) -> None:
    elevenlabs_server.script(Speech())
    await speak(make_tts(elevenlabs_server, voice="voice-a"), language="de-DE")
    (request,) = elevenlabs_server.requests
    assert (request.method, request.path) == ("POST", "/v1/text-to-speech/voice-a/stream")
    assert request.headers["xi-api-key"] == elevenlabs_server.api_key
    assert "authorization" not in request.headers
    assert request.body == {"text": "Hello there.", "model_id": "eleven_flash_v2_5", "language_code": "de"}


async def test_models_without_language_codes_get_none(elevenlabs_server: ElevenLabsServer) -> None:
    elevenlabs_server.script(Speech())
    await speak(make_tts(elevenlabs_server, model="eleven_multilingual_v2"), voice="EXAVITQu4vr4xnSDxMaL")
    (request,) = elevenlabs_server.requests
    assert request.path == "/v1/text-to-speech/EXAVITQu4vr4xnSDxMaL/stream"
    assert request.body == {"text": "Hello there.", "model_id": "eleven_multilingual_v2"}


async def test_429_then_success(elevenlabs_server: ElevenLabsServer) -> None:
    elevenlabs_server.script(rate_limited(retry_after="0.1"), Speech(seconds=0.5))
    pcm = await speak(make_tts(elevenlabs_server))
    assert duration_seconds(pcm, 16_000) == pytest.approx(0.5, abs=0.01)
    assert len(elevenlabs_server.requests) == 2


async def test_persistent_500_is_an_error(elevenlabs_server: ElevenLabsServer) -> None:
    elevenlabs_server.otherwise = HttpError(503, "Service is busy")
    with pytest.raises(TtsError, match=r"elevenlabs answered 503: Service is busy \(3 attempts\)"):
        await speak(make_tts(elevenlabs_server))
    assert len(elevenlabs_server.requests) == 3


async def test_a_wrong_key_or_voice_is_not_retried(elevenlabs_server: ElevenLabsServer) -> None:
    with pytest.raises(TtsError, match="401: Invalid API key"):
        await speak(make_tts(elevenlabs_server, api_key="wrong"))
    elevenlabs_server.voice_ids = {"known"}
    with pytest.raises(TtsError, match="404: A voice with the voice_id unknown was not found"):
        await speak(make_tts(elevenlabs_server), voice="unknown")
    assert len(elevenlabs_server.requests) == 2


async def test_a_stall_is_a_timeout(elevenlabs_server: ElevenLabsServer) -> None:
    elevenlabs_server.otherwise = stall()
    with pytest.raises(TtsTimeoutError, match=r"no audio from elevenlabs within 0\.3 s \(1 attempt\)"):
        await speak(make_tts(elevenlabs_server, timing=HttpTiming(first_byte_timeout=0.3, max_retries=0)))
    assert len(elevenlabs_server.requests) == 1


async def test_no_retry_after_the_first_byte(elevenlabs_server: ElevenLabsServer) -> None:
    elevenlabs_server.script(stall(after_chunks=1, seconds=1.0), Speech())
    with pytest.raises(TtsTimeoutError, match="not retried"):
        await speak(make_tts(elevenlabs_server))
    assert elevenlabs_server.pending == 1


async def test_voices_listed(elevenlabs_server: ElevenLabsServer) -> None:
    tts = make_tts(elevenlabs_server)
    everyone = await tts.voices()
    german = await tts.voices("de-DE")
    await tts.aclose()
    assert everyone == [
        Voice("JBFqnCBsd6RMkjVDRZzb", "George", "multilingual", "male"),
        Voice("EXAVITQu4vr4xnSDxMaL", "Sarah", "en", "female"),
        Voice("cloned-voice-1", "My clone", "multilingual", None),
    ]
    assert [voice.name for voice in german] == ["George", "My clone"]
    assert elevenlabs_server.requests[0].path == "/v1/voices"
    assert elevenlabs_server.requests[0].headers["xi-api-key"] == elevenlabs_server.api_key


async def test_a_failing_voice_list_is_an_error(elevenlabs_server: ElevenLabsServer) -> None:
    elevenlabs_server.voices_error = HttpError(401, "Invalid API key")
    tts = make_tts(elevenlabs_server)
    with pytest.raises(TtsError, match="401: Invalid API key"):
        await tts.voices()
    await tts.aclose()
