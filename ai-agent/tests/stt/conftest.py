"""Fixtures of the speech-to-text tests: speech synthesised by espeak-ng, the Whisper model (loaded once per
test session), and the local transcription and Deepgram servers (one per module, reset for each test)."""

from __future__ import annotations

import functools
import subprocess
from collections.abc import AsyncIterator, Callable

import numpy as np
import pytest
import pytest_asyncio
import soxr  # type: ignore[import-untyped]

from ai_agent.stt.testing import (
    DeepgramServer,
    TranscriptionServer,
    serving_deepgram_server,
    serving_transcription_server,
)
from ai_agent.stt.whisper import WhisperSpeechToText

ESPEAK_RATE = 22_050
DEEPGRAM_KEY = "dg-test-key"

Speech = Callable[[str, int], bytes]


@functools.cache
def _spoken(text: str, sample_rate: int) -> bytes:
    wav = subprocess.run(
        ["espeak-ng", "-v", "en-us", "--stdout", text], capture_output=True, check=True
    ).stdout
    data = wav[wav.index(b"data") + 8 :]  # espeak streams: the header's sizes are not filled in
    samples = np.frombuffer(data[: len(data) // 2 * 2], dtype="<i2").astype(np.float32) / 32768
    resampled = soxr.resample(samples, ESPEAK_RATE, sample_rate, quality="HQ")
    pcm: bytes = np.clip(np.round(resampled * 32767), -32768, 32767).astype("<i2").tobytes()
    return pcm


@pytest.fixture(scope="session")
def speech() -> Speech:
    """``speech(text, sample_rate)``: espeak-ng saying ``text``, as 16-bit little-endian mono PCM."""
    return _spoken


@pytest_asyncio.fixture(scope="session")
async def whisper() -> WhisperSpeechToText:
    engine = WhisperSpeechToText(cpu_threads=2)
    await engine.load()
    return engine


@pytest_asyncio.fixture(scope="module")
async def shared_transcription_server() -> AsyncIterator[TranscriptionServer]:
    async with serving_transcription_server() as server:
        yield server


@pytest_asyncio.fixture
async def transcription_server(shared_transcription_server: TranscriptionServer) -> TranscriptionServer:
    shared_transcription_server.reset()
    return shared_transcription_server


@pytest_asyncio.fixture(scope="module")
async def shared_deepgram_server() -> AsyncIterator[DeepgramServer]:
    async with serving_deepgram_server(api_key=DEEPGRAM_KEY) as server:
        yield server


@pytest_asyncio.fixture
async def deepgram_server(shared_deepgram_server: DeepgramServer) -> DeepgramServer:
    shared_deepgram_server.reset()
    return shared_deepgram_server
