"""OpenAITextToSpeech against the local OpenAI speech server over real HTTP: the request, resampling of the
24 kHz stream, retries before the first byte and none after it, timeouts."""

from __future__ import annotations

import time
from contextlib import aclosing
from typing import Any

import pytest
from prometheus_client import REGISTRY

from ai_agent.audio import duration_seconds
from ai_agent.audio.testing import peak_frequency
from ai_agent.tts.http_audio import HttpTiming
from ai_agent.tts.openai_speech import OPENAI_VOICES, OpenAITextToSpeech
from ai_agent.tts.testing import HttpError, OpenAITtsServer, Speech, rate_limited, stall
from ai_agent.tts.types import TtsError, TtsRateLimitedError, TtsTimeoutError
from dialplane.testing.http import free_port

FAST = HttpTiming(
    first_byte_timeout=0.5, total_timeout=5.0, idle_timeout=0.5, backoff_base=0.01, backoff_cap=0.02
)


def make_tts(server: OpenAITtsServer, **options: Any) -> OpenAITextToSpeech:
    defaults: dict[str, Any] = {"base_url": server.api_base, "api_key": server.api_key, "timing": FAST}
    return OpenAITextToSpeech(**(defaults | options))


async def speak(tts: OpenAITextToSpeech, text: str = "Hello there.", sample_rate: int = 16_000) -> bytes:
    try:
        async with aclosing(
            tts.synthesize(text, voice=None, language="en", sample_rate=sample_rate)
        ) as chunks:
            return b"".join([chunk async for chunk in chunks])
    finally:
        await tts.aclose()


@pytest.mark.parametrize("sample_rate", [8_000, 16_000, 24_000])
async def test_a_440_hz_tone_comes_out_at_440_hz_at_the_rate_asked_for(
    openai_server: OpenAITtsServer, sample_rate: int
) -> None:
    openai_server.script(Speech(seconds=1.0, frequency=440, chunk_bytes=1001))
    pcm = await speak(make_tts(openai_server), sample_rate=sample_rate)
    assert abs(len(pcm) // 2 - sample_rate) <= 4
    assert peak_frequency(pcm, sample_rate) == pytest.approx(440, abs=1.0)


async def test_the_request_follows_the_protocol(openai_server: OpenAITtsServer) -> None:
    openai_server.script(Speech())
    await speak(make_tts(openai_server, model="tts-1", voice="nova", speed=1.25), "Good morning!")
    (request,) = openai_server.requests
    assert (request.method, request.path) == ("POST", "/v1/audio/speech")
    assert request.headers["authorization"] == f"Bearer {openai_server.api_key}"
    assert request.body == {
        "model": "tts-1",
        "input": "Good morning!",
        "voice": "nova",
        "response_format": "pcm",
        "speed": 1.25,
    }


async def test_a_voice_given_replaces_the_default(openai_server: OpenAITtsServer) -> None:
    openai_server.script(Speech())
    tts = make_tts(openai_server)
    async with aclosing(tts.synthesize("Hi.", voice="onyx", language="de", sample_rate=16_000)) as chunks:
        assert [chunk async for chunk in chunks]
    await tts.aclose()
    assert openai_server.requests[0].body["voice"] == "onyx"


async def test_chunks_are_handed_on_as_they_arrive(openai_server: OpenAITtsServer) -> None:
    openai_server.script(Speech(seconds=1.0, chunk_bytes=9600, chunk_delay=0.1))  # 0.2 s of audio each
    tts = make_tts(openai_server)
    started = time.monotonic()
    async with aclosing(tts.synthesize("Hi.", voice=None, language="en", sample_rate=16_000)) as chunks:
        first = await anext(chunks)
        first_at = time.monotonic() - started
        rest = [chunk async for chunk in chunks]
    await tts.aclose()
    assert first and rest
    assert first_at < 0.3 < time.monotonic() - started


async def test_429_then_success(openai_server: OpenAITtsServer) -> None:
    openai_server.script(rate_limited(retry_after="0.2"), Speech(seconds=0.5))
    pcm = await speak(make_tts(openai_server))
    assert duration_seconds(pcm, 16_000) == pytest.approx(0.5, abs=0.01)
    first, second = openai_server.requests
    assert second.at - first.at >= 0.2
    assert _count("dialplane_tts_retries_total", provider="openai", reason="rate_limited") >= 1


async def test_429_every_time_raises_rate_limited(openai_server: OpenAITtsServer) -> None:
    openai_server.otherwise = rate_limited(retry_after="0.01", message="Rate limit reached for tts-1")
    with pytest.raises(TtsRateLimitedError, match="Rate limit reached for tts-1") as raised:
        await speak(make_tts(openai_server))
    assert raised.value.retry_after_seconds == pytest.approx(0.01)
    assert raised.value.retryable
    assert len(openai_server.requests) == 3  # max_retries=2


async def test_persistent_500_is_an_error(openai_server: OpenAITtsServer) -> None:
    openai_server.otherwise = HttpError(500, "The server had an error")
    with pytest.raises(
        TtsError, match=r"openai answered 500: The server had an error \(3 attempts\)"
    ) as raised:
        await speak(make_tts(openai_server))
    assert raised.value.retryable
    assert len(openai_server.requests) == 3


async def test_a_wrong_key_is_not_retried(openai_server: OpenAITtsServer) -> None:
    with pytest.raises(TtsError, match="401: Incorrect API key provided") as raised:
        await speak(make_tts(openai_server, api_key="sk-wrong"))
    assert not raised.value.retryable
    assert len(openai_server.requests) == 1


async def test_a_stall_before_the_first_byte_is_a_timeout_after_retries(
    openai_server: OpenAITtsServer,
) -> None:
    openai_server.otherwise = stall()
    started = time.monotonic()
    with pytest.raises(TtsTimeoutError, match=r"no audio from openai within 0\.5 s \(3 attempts\)"):
        await speak(make_tts(openai_server))
    assert 1.5 <= time.monotonic() - started < 3
    assert len(openai_server.requests) == 3


async def test_a_stall_then_success(openai_server: OpenAITtsServer) -> None:
    openai_server.script(stall(), Speech(seconds=0.25))
    pcm = await speak(make_tts(openai_server))
    assert duration_seconds(pcm, 16_000) == pytest.approx(0.25, abs=0.01)


async def test_no_retry_after_the_first_byte(openai_server: OpenAITtsServer) -> None:
    openai_server.script(stall(after_chunks=2, seconds=1.0), Speech())
    tts = make_tts(openai_server)
    received = []
    with pytest.raises(TtsTimeoutError, match=r"stalled for 0\.5 s \(not retried"):
        async with aclosing(tts.synthesize("Hi.", voice=None, language="en", sample_rate=16_000)) as chunks:
            async for chunk in chunks:
                received.append(chunk)
    await tts.aclose()
    assert received
    assert len(openai_server.requests) == 1 and openai_server.pending == 1


async def test_a_dropped_connection_after_the_first_byte_is_not_retried(
    openai_server: OpenAITtsServer,
) -> None:
    openai_server.script(Speech(seconds=1.0, cut_after=2), Speech())
    with pytest.raises(TtsError, match="broke off"):
        await speak(make_tts(openai_server))
    assert len(openai_server.requests) == 1


async def test_closing_early_closes_the_http_stream(openai_server: OpenAITtsServer) -> None:
    openai_server.script(Speech(seconds=5.0, chunk_bytes=4800, chunk_delay=0.05))
    tts = make_tts(openai_server)
    chunks = tts.synthesize("Hi.", voice=None, language="en", sample_rate=16_000)
    assert await anext(chunks)
    await chunks.aclose()
    await tts.aclose()
    request = openai_server.requests[0]
    await request.closed.wait()
    assert request.disconnected


async def test_nothing_listening_is_a_connection_error() -> None:
    tts = OpenAITextToSpeech(base_url=f"http://127.0.0.1:{free_port()}/v1", timing=FAST)
    with pytest.raises(TtsError, match=r"could not reach http://127\.0\.0\.1:\d+/v1/audio/speech") as raised:
        await speak(tts)
    assert raised.value.retryable


async def test_too_long_a_text_is_refused_before_sending(openai_server: OpenAITtsServer) -> None:
    with pytest.raises(TtsError, match="at most 4096 characters"):
        await speak(make_tts(openai_server), "a" * 5000)
    assert openai_server.requests == []


async def test_voices_are_the_built_in_ones() -> None:
    tts = OpenAITextToSpeech()
    voices = await tts.voices("de")
    await tts.aclose()
    assert [voice.id for voice in voices] == list(OPENAI_VOICES)
    assert {"alloy", "echo", "fable", "onyx", "nova", "shimmer"} <= {voice.id for voice in voices}


def _count(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0
