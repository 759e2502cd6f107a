"""Helpers for the one audio format of the agent: signed 16-bit little-endian mono PCM ("s16le").

Every buffer here holds whole samples (an even number of bytes); a buffer that does not raises
:class:`ValueError`. Asterisk's RTP ``slin`` is big-endian: :func:`swap_bytes` converts either way.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

SAMPLE_WIDTH = 2  # bytes per sample
_LE = np.dtype("<i2")


def samples(pcm: bytes) -> npt.NDArray[np.int16]:
    """The samples of ``pcm`` as a (read-only) array of native int16."""
    if len(pcm) % SAMPLE_WIDTH:
        raise ValueError(f"s16le audio must have an even number of bytes, not {len(pcm)}")
    return np.frombuffer(pcm, dtype=_LE).astype(np.int16, copy=False)


def to_pcm(values: npt.NDArray[np.generic]) -> bytes:
    """``values`` (any integer or float array of sample values) as s16le, clipped to the 16-bit range."""
    clipped = np.clip(np.rint(values) if values.dtype.kind == "f" else values, -32768, 32767)
    return bytes(clipped.astype(_LE).tobytes())


def swap_bytes(pcm: bytes) -> bytes:
    """s16le as s16be, or s16be as s16le (the same operation)."""
    if len(pcm) % SAMPLE_WIDTH:
        raise ValueError(f"16-bit audio must have an even number of bytes, not {len(pcm)}")
    return np.frombuffer(pcm, dtype=np.uint16).byteswap().tobytes()


def duration_seconds(pcm: bytes, rate: int) -> float:
    """How long ``pcm`` plays at ``rate`` samples per second."""
    if rate <= 0:
        raise ValueError(f"the sample rate must be positive, not {rate}")
    return len(pcm) / (SAMPLE_WIDTH * rate)


def rms_dbfs(pcm: bytes) -> float:
    """The loudness of ``pcm`` in dB relative to a full-scale square wave: 0.0 at most, about -3.0 for a
    full-scale sine, ``-inf`` for silence or no audio."""
    values = samples(pcm).astype(np.float64)
    if not values.size:
        return -math.inf
    rms = float(np.sqrt(np.mean(values * values)))
    return 20 * math.log10(rms / 32768) if rms > 0 else -math.inf


def mix(a: bytes, b: bytes) -> bytes:
    """The sum of two s16le streams (both sides of a call), clipped; the shorter is padded with silence."""
    first, second = samples(a).astype(np.int32), samples(b).astype(np.int32)
    length = max(first.size, second.size)
    total = np.zeros(length, dtype=np.int32)
    total[: first.size] += first
    total[: second.size] += second
    return to_pcm(total)


class FrameSplitter:
    """Cuts a byte stream into frames of exactly ``frame_bytes`` (e.g. 20 ms: 640 bytes at 16 kHz),
    keeping the remainder for the next :meth:`feed`."""

    def __init__(self, frame_bytes: int) -> None:
        if frame_bytes <= 0:
            raise ValueError(f"frame_bytes must be positive, not {frame_bytes}")
        self.frame_bytes = frame_bytes
        self._pending = bytearray()

    @property
    def pending(self) -> int:
        """Bytes held back: less than one frame."""
        return len(self._pending)

    def feed(self, data: bytes) -> list[bytes]:
        """The whole frames available now."""
        self._pending += data
        whole = len(self._pending) - len(self._pending) % self.frame_bytes
        frames = [bytes(self._pending[i : i + self.frame_bytes]) for i in range(0, whole, self.frame_bytes)]
        del self._pending[:whole]
        return frames

    def pad_last(self) -> bytes:
        """The remainder padded with silence to a whole frame (``b""`` if nothing is held back)."""
        if not self._pending:
            return b""
        frame = bytes(self._pending).ljust(self.frame_bytes, b"\x00")
        self._pending.clear()
        return frame

    def clear(self) -> None:
        """Drop the remainder (barge-in: what was not sent is not sent)."""
        self._pending.clear()
