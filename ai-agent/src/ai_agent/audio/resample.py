"""Sample-rate conversion of s16le mono audio with libsoxr, streaming or in one go.

Quality ``"HQ"`` (soxr's default: 20-bit precision, a steep low-pass) keeps speech clean across the rates
met here (espeak-ng's 22 050 Hz, OpenAI's 24 000 Hz, 16 000 Hz for speech recognition, 8 000 Hz for
narrow-band telephony). The streaming resampler holds back a few milliseconds of audio (the filter's
delay) until :meth:`Resampler.flush`. The work is done in float32 and rounded back to 16 bits here: libsoxr's
own 16-bit output adds random dither, which would make the same input give different output.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import soxr  # type: ignore[import-untyped]  # ships no py.typed marker

from ai_agent.audio.pcm import SAMPLE_WIDTH, samples, to_pcm

Quality = Literal["QQ", "LQ", "MQ", "HQ", "VHQ"]


class Resampler:
    """Converts a stream of s16le chunks from ``from_rate`` to ``to_rate``. Chunks may have any length: an
    odd trailing byte is kept for the next chunk. Equal rates pass the audio through unchanged."""

    def __init__(self, from_rate: int, to_rate: int, *, quality: Quality = "HQ") -> None:
        if from_rate <= 0 or to_rate <= 0:
            raise ValueError(f"sample rates must be positive, not {from_rate} and {to_rate}")
        self.from_rate = from_rate
        self.to_rate = to_rate
        self._carry = b""
        self._stream = (
            None
            if from_rate == to_rate
            else soxr.ResampleStream(from_rate, to_rate, 1, dtype="float32", quality=quality)
        )

    def process(self, chunk: bytes) -> bytes:
        """The converted audio available so far (possibly ``b""`` while the filter fills)."""
        data = self._carry + chunk if self._carry else chunk
        whole = len(data) - len(data) % SAMPLE_WIDTH
        self._carry = data[whole:]
        if self._stream is None or not whole:
            return bytes(data[:whole])
        return to_pcm(self._stream.resample_chunk(samples(data[:whole]).astype(np.float32)))

    def flush(self) -> bytes:
        """The audio still held back, at the end of the stream. An odd trailing byte is dropped; the
        resampler is ready for a new stream afterwards."""
        self._carry = b""
        if self._stream is None:
            return b""
        tail = to_pcm(self._stream.resample_chunk(np.zeros(0, dtype=np.float32), last=True))
        self._stream.clear()
        return tail


def resample(pcm: bytes, from_rate: int, to_rate: int, *, quality: Quality = "HQ") -> bytes:
    """``pcm`` converted from ``from_rate`` to ``to_rate`` in one go."""
    resampler = Resampler(from_rate, to_rate, quality=quality)
    return resampler.process(pcm) + resampler.flush()
