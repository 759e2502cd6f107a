"""Answering machines: wait for the beep, leave the profile's message, hang up.

The bridge's answering-machine detection says ``answered_by = machine`` while the greeting is still
playing. :class:`BeepDetector` finds the beep: a pure tone (one frequency holding most of a 20 ms frame's
energy, loud enough) lasting at least 100 ms; the message starts once it stops. If no beep comes, the
message starts after ``quiet_seconds`` of quiet following the greeting, or at ``max_wait_seconds``.
"""

from __future__ import annotations

import time

import numpy as np

from ai_agent.media.feed import AudioFeed
from ai_agent.session.speaking import Speaker

FRAME_BYTES = 640  # 20 ms at 16 kHz
TONE_SHARE = 0.8
TONE_MIN_DBFS = -35.0
BEEP_MIN_FRAMES = 10  # 200 ms of one steady frequency: longer than any vowel


def tone_frequency(frame: bytes, sample_rate: int = 16000) -> float | None:
    """The frequency of a pure tone filling the frame (one spectral peak holding most of a loud enough
    frame's energy), or None for speech, noise and silence."""
    samples = np.frombuffer(frame, dtype="<i2").astype(np.float64)
    if samples.size < 64:
        return None
    rms = float(np.sqrt(np.mean(samples**2))) / 32768.0
    if rms <= 10 ** (TONE_MIN_DBFS / 20):
        return None
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(samples.size))) ** 2
    peak = int(np.argmax(spectrum))
    frequency = peak * sample_rate / samples.size
    around = spectrum[max(0, peak - 2) : peak + 3].sum()
    steady = 300.0 <= frequency <= 3000.0 and around / spectrum.sum() >= TONE_SHARE
    return frequency if steady else None


def is_quiet(frame: bytes) -> bool:
    samples = np.frombuffer(frame, dtype="<i2").astype(np.float64)
    return samples.size == 0 or float(np.sqrt(np.mean(samples**2))) / 32768.0 < 10 ** (-45.0 / 20)


class BeepDetector:
    """Feed 20 ms frames; :meth:`feed` is True once a beep has been heard and has ended."""

    def __init__(self) -> None:
        self._tone_frames = 0
        self._frequency: float | None = None
        self.beep_heard = False

    def feed(self, frame: bytes) -> bool:
        frequency = tone_frequency(frame)
        if frequency is not None:
            same = self._frequency is not None and abs(frequency - self._frequency) <= 60
            self._tone_frames = self._tone_frames + 1 if same or self._tone_frames == 0 else 1
            self._frequency = frequency
            return False
        if self._tone_frames >= BEEP_MIN_FRAMES:
            self.beep_heard = True
        self._tone_frames, self._frequency = 0, None
        return self.beep_heard


async def wait_for_beep(
    feed: AudioFeed, *, quiet_seconds: float = 2.5, max_wait_seconds: float = 20.0
) -> str:
    """Read the machine's audio until its beep has ended (``"beep"``), or it has been quiet long enough
    after making noise (``"quiet"``), or too long has passed (``"timeout"``); ``"hangup"`` if it hung up."""
    detector, deadline = BeepDetector(), time.monotonic() + max_wait_seconds
    heard, quiet_since = False, None
    while time.monotonic() < deadline:
        frame = await feed.frame()
        if frame is None:
            return "hangup"
        for offset in range(0, len(frame) - FRAME_BYTES + 1, FRAME_BYTES):
            piece = frame[offset : offset + FRAME_BYTES]
            if detector.feed(piece):
                return "beep"
            if is_quiet(piece):
                quiet_since = quiet_since if quiet_since is not None else time.monotonic()
            else:
                heard, quiet_since = True, None
        if heard and quiet_since is not None and time.monotonic() - quiet_since >= quiet_seconds:
            return "quiet"
    return "timeout"


async def leave_message(speaker: Speaker, message: str) -> None:
    speaker.begin()
    await speaker.say(message)
    await speaker.finish()
