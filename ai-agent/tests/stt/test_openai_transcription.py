"""OpenAITranscription against the local transcription server over real HTTP: what is posted, the answer,
and the retries on 429, 5xx and timeouts."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
import pytest
import pytest_asyncio

from ai_agent.stt.openai_transcription import OpenAITranscription
from ai_agent.stt.testing import TranscriptionServer, frames, rate_limited, server_error, transcribed
from ai_agent.stt.types import SttError, SttRateLimitedError, SttSession, SttTimeoutError, Transcript

KEY = "sk-test-transcription"


def tone(seconds: float, sample_rate: int, frequency: float = 440.0) -> bytes:
    """A tone whose samples use both bytes, so a byte-order mistake shows."""
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    return (np.sin(2 * np.pi * frequency * t) * 12_000).astype("<i2").tobytes()


@pytest_asyncio.fixture
async def engine(transcription_server: TranscriptionServer) -> AsyncIterator[OpenAITranscription]:
    stt = make_engine(transcription_server)
    yield stt
    await stt.aclose()


def make_engine(server: TranscriptionServer, **options: Any) -> OpenAITranscription:
    defaults: dict[str, Any] = {"base_url": server.api_base, "api_key": KEY, "backoff_base": 0.01}
    return OpenAITranscription(**(defaults | options))


async def say(session: SttSession, pcm: bytes, sample_rate: int) -> None:
    for frame in frames(pcm, sample_rate):
        await session.feed(frame)


async def test_the_turn_is_posted_as_a_wav_file_and_the_text_comes_back(
    engine: OpenAITranscription, transcription_server: TranscriptionServer
) -> None:
    transcription_server.script(transcribed(" Can we meet on Friday morning? "))
    audio = tone(0.5, 8_000)
    session = await engine.open(sample_rate=8_000, language="en-US")
    await say(session, audio, 8_000)
    assert await session.end_of_turn() == Transcript("Can we meet on Friday morning?", "en")
    [upload] = transcription_server.uploads
    assert upload.authorization == f"Bearer {KEY}"
    assert upload.fields == {"model": "whisper-1", "language": "en", "response_format": "json"}
    assert (upload.file_name, upload.content_type) == ("speech.wav", "audio/wav")
    wav = upload.wav
    assert (wav.channels, wav.sample_width, wav.sample_rate) == (1, 2, 8_000)
    assert wav.pcm == audio
    sent = np.frombuffer(wav.pcm, dtype="<i2")
    assert np.array_equal(sent, np.frombuffer(audio, dtype="<i2"))
    assert sent.max() > 11_000, "samples read as little-endian must be the tone's"


async def test_each_turn_posts_only_its_own_audio(
    engine: OpenAITranscription, transcription_server: TranscriptionServer
) -> None:
    transcription_server.script(transcribed("first"), transcribed("second"))
    first, false_start, second = tone(0.3, 16_000, 300), tone(0.2, 16_000, 900), tone(0.4, 16_000, 500)
    session = await engine.open(sample_rate=16_000, language="en")
    await say(session, first, 16_000)
    assert (await session.end_of_turn()).text == "first"
    await say(session, false_start, 16_000)
    await session.discard()
    await say(session, second, 16_000)
    assert (await session.end_of_turn()).text == "second"
    assert [upload.wav.pcm for upload in transcription_server.uploads] == [first, second]
    assert transcription_server.uploads[1].wav.sample_rate == 16_000


async def test_a_turn_too_short_to_transcribe_is_empty_without_a_request(
    engine: OpenAITranscription, transcription_server: TranscriptionServer
) -> None:
    session = await engine.open(sample_rate=8_000, language="en")
    assert await session.end_of_turn() == Transcript("")
    await session.feed(tone(0.06, 8_000))
    assert await session.end_of_turn() == Transcript("")
    assert transcription_server.uploads == []


async def test_the_prompt_and_model_are_sent(transcription_server: TranscriptionServer) -> None:
    transcription_server.script(transcribed("Dialplane"))
    stt = make_engine(
        transcription_server, model="Systran/faster-whisper-small", prompt="Dialplane, Asterisk"
    )
    session = await stt.open(sample_rate=8_000, language="de")
    await say(session, tone(0.3, 8_000), 8_000)
    await session.end_of_turn()
    await stt.aclose()
    fields = transcription_server.uploads[0].fields
    assert fields["model"] == "Systran/faster-whisper-small"
    assert fields["prompt"] == "Dialplane, Asterisk"
    assert fields["language"] == "de"


async def test_a_rate_limit_is_waited_out_as_retry_after_says(
    engine: OpenAITranscription, transcription_server: TranscriptionServer
) -> None:
    transcription_server.script(rate_limited(retry_after="0.4"), transcribed("Yes, please."))
    session = await engine.open(sample_rate=8_000, language="en")
    await say(session, tone(0.3, 8_000), 8_000)
    assert (await session.end_of_turn()).text == "Yes, please."
    first, second = transcription_server.uploads
    assert second.at - first.at >= 0.4
    assert second.wav.pcm == first.wav.pcm


async def test_a_lasting_rate_limit_raises_with_the_wait_asked_for(
    engine: OpenAITranscription, transcription_server: TranscriptionServer
) -> None:
    transcription_server.otherwise = rate_limited(retry_after="30")
    session = await engine.open(sample_rate=8_000, language="en")
    await say(session, tone(0.3, 8_000), 8_000)
    with pytest.raises(SttRateLimitedError) as raised:
        await session.end_of_turn()
    assert raised.value.retry_after_seconds == 30
    assert len(transcription_server.uploads) == 1, "a wait beyond the turn's budget is not attempted"


async def test_server_errors_are_retried_then_reported(
    engine: OpenAITranscription, transcription_server: TranscriptionServer
) -> None:
    transcription_server.otherwise = server_error(500)
    session = await engine.open(sample_rate=8_000, language="en")
    await say(session, tone(0.3, 8_000), 8_000)
    with pytest.raises(SttError, match="500") as raised:
        await session.end_of_turn()
    assert type(raised.value) is SttError
    assert len(transcription_server.uploads) == 3


async def test_one_server_error_is_recovered_from(
    engine: OpenAITranscription, transcription_server: TranscriptionServer
) -> None:
    transcription_server.script(server_error(503), transcribed("Friday works."))
    session = await engine.open(sample_rate=8_000, language="en")
    await say(session, tone(0.3, 8_000), 8_000)
    assert (await session.end_of_turn()).text == "Friday works."


async def test_a_refused_request_is_not_retried(transcription_server: TranscriptionServer) -> None:
    stt = make_engine(transcription_server, model="")  # the server refuses a request without a model
    session = await stt.open(sample_rate=8_000, language="en")
    await say(session, tone(0.3, 8_000), 8_000)
    with pytest.raises(SttError, match="400"):
        await session.end_of_turn()
    await stt.aclose()
    assert len(transcription_server.uploads) == 1


async def test_a_slow_server_times_out(transcription_server: TranscriptionServer) -> None:
    transcription_server.otherwise = transcribed("too late", delay=5)
    stt = make_engine(transcription_server, request_timeout=0.2, max_attempts=2)
    session = await stt.open(sample_rate=8_000, language="en")
    await say(session, tone(0.3, 8_000), 8_000)
    started = time.monotonic()
    with pytest.raises(SttTimeoutError):
        await session.end_of_turn()
    await stt.aclose()
    assert time.monotonic() - started < 1.5
    assert len(transcription_server.uploads) == 2


async def test_the_total_timeout_bounds_the_retries(transcription_server: TranscriptionServer) -> None:
    transcription_server.otherwise = transcribed("too late", delay=5)
    stt = make_engine(transcription_server, request_timeout=0.3, total_timeout=0.5, max_attempts=10)
    session = await stt.open(sample_rate=8_000, language="en")
    await say(session, tone(0.3, 8_000), 8_000)
    started = time.monotonic()
    with pytest.raises(SttTimeoutError):
        await session.end_of_turn()
    await stt.aclose()
    assert time.monotonic() - started < 1.0


async def test_an_unreachable_server_is_an_stt_error() -> None:
    stt = OpenAITranscription(base_url="http://127.0.0.1:9/v1", backoff_base=0.01, request_timeout=1)
    session = await stt.open(sample_rate=8_000, language="en")
    await say(session, tone(0.3, 8_000), 8_000)
    with pytest.raises(SttError, match="could not reach"):
        await session.end_of_turn()
    await stt.aclose()


async def test_the_key_is_not_in_the_repr(engine: OpenAITranscription) -> None:
    assert KEY not in repr(engine)


async def test_the_calls_vocabulary_follows_the_configured_prompt(
    transcription_server: TranscriptionServer,
) -> None:
    transcription_server.script(transcribed("jane dot doe at example dot com"))
    stt = make_engine(transcription_server, prompt="Dialplane")
    session = await stt.open(
        sample_rate=8_000, language="en", vocabulary=["Jane Doe", "jane dot doe at example dot com"]
    )
    await say(session, tone(0.3, 8_000), 8_000)
    await session.end_of_turn()
    await stt.aclose()
    prompt = transcription_server.uploads[0].fields["prompt"]
    assert prompt == "Dialplane. Jane Doe, jane dot doe at example dot com."
