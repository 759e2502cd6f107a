"""Test support: tones to feed the audio paths, and the check that a tone survived them."""

from __future__ import annotations

import numpy as np

from ai_agent.audio.pcm import samples, to_pcm


def sine(frequency: float, seconds: float, rate: int, *, amplitude: float = 0.5) -> bytes:
    """A sine of ``frequency`` Hz as s16le at ``rate``; ``amplitude`` is a fraction of full scale."""
    t = np.arange(round(seconds * rate)) / rate
    return to_pcm(np.sin(2 * np.pi * frequency * t) * amplitude * 32767)


def peak_frequency(pcm: bytes, rate: int) -> float:
    """The frequency (Hz) of the strongest component of ``pcm`` (a Hann-windowed FFT, interpolated
    between bins so that its error is well under 1 Hz for a second of a clean tone)."""
    values = samples(pcm).astype(np.float64)
    if values.size < 2:
        raise ValueError("too little audio to find a frequency in")
    spectrum = np.abs(np.fft.rfft(values * np.hanning(values.size)))
    peak = int(np.argmax(spectrum[1:])) + 1
    offset = 0.0
    if 0 < peak < spectrum.size - 1:
        left, centre, right = np.log(spectrum[peak - 1 : peak + 2] + 1e-12)
        offset = 0.5 * (left - right) / (left - 2 * centre + right)
    return float((peak + offset) * rate / values.size)
