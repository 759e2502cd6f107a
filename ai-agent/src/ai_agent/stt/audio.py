"""Audio conversions shared by the providers: PCM bytes to Whisper's input, WAV files, language tags.

PCM here is always signed 16-bit little-endian mono (Asterisk's ``slin``/``slin16``), whatever the byte
order of the machine: reading it as big-endian turns speech into noise, so the order is explicit.
"""

from __future__ import annotations

import io
import wave
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import soxr  # type: ignore[import-untyped]

WHISPER_RATE = 16_000
SAMPLE_WIDTH = 2  # bytes per sample
MIN_TURN_SECONDS = 0.1  # a shorter turn is empty, the provider is not asked (OpenAI refuses it as too short)
PCM_DTYPE = np.dtype("<i2")

FloatAudio = npt.NDArray[np.float32]


def pcm_to_float(pcm: bytes) -> FloatAudio:
    """Samples in [-1, 1); a trailing odd byte (half a sample) is ignored."""
    usable = len(pcm) - len(pcm) % SAMPLE_WIDTH
    samples = np.frombuffer(pcm[:usable], dtype=PCM_DTYPE)
    return samples.astype(np.float32) / 32768.0


def whisper_input(pcm: bytes, sample_rate: int) -> FloatAudio:
    """Float32 samples at 16 kHz, resampled with soxr when ``sample_rate`` differs."""
    samples = pcm_to_float(pcm)
    if sample_rate == WHISPER_RATE or samples.size == 0:
        return samples
    resampled = soxr.resample(samples, sample_rate, WHISPER_RATE, quality="HQ")
    return np.asarray(resampled, dtype=np.float32)


def wav_file(pcm: bytes, sample_rate: int) -> bytes:
    """A WAV file (RIFF, PCM 16-bit, mono) holding ``pcm``."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(SAMPLE_WIDTH)
        wav.setframerate(sample_rate)
        wav.writeframes(pcm[: len(pcm) - len(pcm) % SAMPLE_WIDTH])  # wave writes bytes as given: LE
    return buffer.getvalue()


def seconds_of(pcm_bytes: int, sample_rate: int) -> float:
    return pcm_bytes / (SAMPLE_WIDTH * sample_rate)


def base_language(language: str) -> str:
    """The ISO 639-1 part of a language tag: ``"en-US"`` → ``"en"``."""
    return language.replace("_", "-").split("-", 1)[0].strip().lower()


def prompt_with(configured: str | None, vocabulary: Sequence[str]) -> str | None:
    """The transcription prompt of a session: the configured hint, then the call's words and phrases."""
    words = ", ".join(v.strip() for v in vocabulary if v.strip())
    if not words:
        return configured
    return f"{configured.rstrip('. ')}. {words}." if configured else f"{words}."
