"""WAV (RIFF) files of mono 16-bit PCM: writing one, reading one, and reading one as it streams in.

Programs that write WAV to a pipe (``espeak-ng --stdout``) cannot know the sizes when they write the header,
so they put 0, 0xFFFFFFFF or a large guess there. :class:`WavStreamReader` therefore hands out the samples as
they arrive and stops at the data chunk's size only when that size is a real one.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ai_agent.audio.pcm import SAMPLE_WIDTH

_PCM = 1
_EXTENSIBLE = 0xFFFE
_UNKNOWN_SIZES = frozenset({0, 0xFFFFFFFF})


@dataclass(frozen=True, slots=True)
class WavFormat:
    sample_rate: int
    channels: int
    bits_per_sample: int


def wav_bytes(pcm: bytes, rate: int) -> bytes:
    """``pcm`` (s16le mono at ``rate``) as a WAV file."""
    if len(pcm) % SAMPLE_WIDTH:
        raise ValueError(f"s16le audio must have an even number of bytes, not {len(pcm)}")
    fmt = struct.pack("<HHIIHH", _PCM, 1, rate, rate * SAMPLE_WIDTH, SAMPLE_WIDTH, 16)
    header = b"RIFF" + struct.pack("<I", 36 + len(pcm)) + b"WAVE"
    return header + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(pcm)) + pcm


def read_wav(data: bytes) -> tuple[bytes, int]:
    """The samples (s16le) and sample rate of a mono 16-bit PCM WAV file. Anything else (stereo, 8 or 24
    bits, a compressed format, not a WAV file) raises :class:`ValueError` saying what it is."""
    reader = WavStreamReader()
    pcm = reader.feed(data)
    if reader.format is None:
        raise ValueError("not a WAV file, or its header is incomplete")
    return pcm[: len(pcm) - len(pcm) % SAMPLE_WIDTH], reader.format.sample_rate


class WavStreamReader:
    """Reads a WAV stream piece by piece: :meth:`feed` returns the sample bytes that have arrived, once the
    header has been read (``b""`` before). The bytes returned need not end on a sample boundary."""

    def __init__(self) -> None:
        self.format: WavFormat | None = None
        self._buffer = bytearray()
        self._riff_read = False
        self._in_data = False
        self._data_left: int | None = None  # None: up to the end of the stream

    def feed(self, data: bytes) -> bytes:
        if self._in_data:
            return self._take(data)
        self._buffer += data
        while not self._in_data and self._parse_next():
            pass
        if not self._in_data:
            return b""
        rest = bytes(self._buffer)
        self._buffer.clear()
        return self._take(rest)

    def _take(self, data: bytes) -> bytes:
        if self._data_left is None:
            return data
        taken = data[: self._data_left]
        self._data_left -= len(taken)
        return taken

    def _parse_next(self) -> bool:
        """Read the next header element from the buffer; ``False`` if more bytes are needed."""
        if not self._riff_read:
            return self._parse_riff()
        if len(self._buffer) < 8:
            return False
        chunk_id, size = bytes(self._buffer[:4]), struct.unpack_from("<I", self._buffer, 4)[0]
        if chunk_id == b"data":
            return self._start_data(size)
        padded = size + size % 2
        if len(self._buffer) < 8 + padded:
            return False
        if chunk_id == b"fmt ":
            self.format = _parse_fmt(bytes(self._buffer[8 : 8 + size]))
        del self._buffer[: 8 + padded]
        return True

    def _parse_riff(self) -> bool:
        if len(self._buffer) < 12:
            return False
        if self._buffer[:4] == b"RIFX":
            raise ValueError("big-endian WAV (RIFX) is not supported")
        if self._buffer[:4] != b"RIFF" or self._buffer[8:12] != b"WAVE":
            raise ValueError("not a WAV file (no RIFF/WAVE header)")
        del self._buffer[:12]
        self._riff_read = True
        return True

    def _start_data(self, size: int) -> bool:
        if self.format is None:
            raise ValueError("the WAV data chunk comes before its fmt chunk")
        del self._buffer[:8]
        self._in_data = True
        self._data_left = None if size in _UNKNOWN_SIZES else size
        return True


def _parse_fmt(fmt: bytes) -> WavFormat:
    if len(fmt) < 16:
        raise ValueError(f"the WAV fmt chunk is too short ({len(fmt)} bytes)")
    tag, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", fmt)
    if tag == _EXTENSIBLE and len(fmt) >= 26:
        tag = struct.unpack_from("<H", fmt, 24)[0]  # the sub-format GUID starts with the format tag
    if tag != _PCM:
        raise ValueError(f"only PCM WAV is supported, this one has format tag {tag:#06x}")
    if channels != 1 or bits != 16:
        raise ValueError(
            f"only mono 16-bit WAV is supported, this one has {channels} channel(s) of {bits} bits"
        )
    if rate <= 0:
        raise ValueError(f"the WAV sample rate is {rate}")
    return WavFormat(rate, channels, bits)
