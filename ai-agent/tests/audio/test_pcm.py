"""Byte order, loudness, mixing and framing of s16le audio."""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest

from ai_agent.audio import FrameSplitter, duration_seconds, mix, rms_dbfs, swap_bytes
from ai_agent.audio.pcm import samples
from ai_agent.audio.testing import sine


def test_a_known_sample_is_little_endian_and_round_trips() -> None:
    pcm = struct.pack("<hh", 0x1234, -2)
    assert pcm == b"\x34\x12\xfe\xff"
    assert samples(pcm).tolist() == [0x1234, -2]
    assert swap_bytes(pcm) == b"\x12\x34\xff\xfe"
    assert swap_bytes(swap_bytes(pcm)) == pcm


def test_swap_bytes_is_numpys_big_endian_encoding() -> None:
    values = np.array([0, 1, -1, 255, 256, 32767, -32768, 12345], dtype=np.int16)
    little = values.astype("<i2").tobytes()
    assert swap_bytes(little) == values.astype(">i2").tobytes()
    assert swap_bytes(values.astype(">i2").tobytes()) == little


def test_odd_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="even number of bytes"):
        swap_bytes(b"\x00\x01\x02")
    with pytest.raises(ValueError, match="even number of bytes"):
        mix(b"\x00", b"")


def test_duration() -> None:
    assert duration_seconds(b"\x00" * 32_000, 16_000) == 1.0
    assert duration_seconds(b"", 8_000) == 0.0


def test_rms_dbfs() -> None:
    assert rms_dbfs(sine(1000, 1.0, 16_000, amplitude=1.0)) == pytest.approx(-3.01, abs=0.05)
    assert rms_dbfs(sine(1000, 1.0, 16_000, amplitude=0.1)) == pytest.approx(-23.01, abs=0.05)
    assert rms_dbfs(b"\x00" * 100) == -math.inf
    assert rms_dbfs(b"") == -math.inf


def test_mix_sums_clips_and_pads_the_shorter() -> None:
    a = struct.pack("<4h", 1000, 30000, -30000, 5)
    b = struct.pack("<2h", 2000, 10000)
    assert samples(mix(a, b)).tolist() == [3000, 32767, -30000, 5]
    assert mix(b, a) == mix(a, b)
    assert mix(a, b"") == a


def test_frame_splitter_cuts_exact_frames_and_pads_the_last() -> None:
    splitter = FrameSplitter(4)
    assert splitter.feed(b"abcdef") == [b"abcd"]
    assert splitter.pending == 2
    assert splitter.feed(b"ghijklmnop") == [b"efgh", b"ijkl", b"mnop"]
    assert splitter.pad_last() == b""
    assert splitter.feed(b"q") == []
    assert splitter.pad_last() == b"q\x00\x00\x00"
    assert splitter.pending == 0


def test_frame_splitter_clear_drops_the_remainder() -> None:
    splitter = FrameSplitter(640)
    splitter.feed(b"\x01" * 700)
    splitter.clear()
    assert splitter.pending == 0
    assert splitter.pad_last() == b""
