"""Reading a phone line's recorded audio: how loud it is over time, when sound starts and stops. Used to
measure what a person on a test-carrier line heard (barge-in stop time, a voicemail after the beep) in the
tests and the benchmark; the line's recordings are 16 kHz s16le (``sln16``)."""

from __future__ import annotations

import numpy as np

LOUD = 0.01  # RMS of full scale: speech or a tone
QUIET = 0.003


def loudness(pcm: bytes, frame_ms: int = 10) -> list[float]:
    """RMS (a fraction of full scale) per ``frame_ms`` of 16 kHz s16le audio."""
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64) / 32768.0
    size = 16 * frame_ms
    frames = samples[: samples.size - samples.size % size].reshape(-1, size)
    return [float(x) for x in np.sqrt((frames**2).mean(axis=1))]


def first_loud(levels: list[float], start: int = 0) -> int:
    """The first frame from ``start`` louder than :data:`LOUD` (ValueError if none)."""
    for index in range(start, len(levels)):
        if levels[index] > LOUD:
            return index
    raise ValueError("no sound")


def first_quiet(levels: list[float], start: int, run: int = 20) -> int:
    """The first frame from ``start`` that begins ``run`` quiet frames in a row (ValueError if none)."""
    for index in range(start, len(levels)):
        if all(level < QUIET for level in levels[index : index + run]):
            return index
    raise ValueError("never quiet")


def last_loud(levels: list[float]) -> int:
    return max(index for index, level in enumerate(levels) if level > LOUD)
