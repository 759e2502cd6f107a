"""WAV files: written, read back, and read while streaming with the placeholder sizes programs write."""

from __future__ import annotations

import struct

import pytest

from ai_agent.audio import WavStreamReader, read_wav, wav_bytes
from ai_agent.audio.testing import sine


def header(
    rate: int, *, channels: int = 1, bits: int = 16, tag: int = 1, data_size: int = 0xFFFFFFFF
) -> bytes:
    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * block, block, bits)
    return (
        b"RIFF"
        + struct.pack("<I", 0xFFFFFFFF)
        + b"WAVEfmt "
        + struct.pack("<I", 16)
        + fmt
        + (b"data" + struct.pack("<I", data_size))
    )


def test_round_trip() -> None:
    pcm = sine(440, 0.25, 22_050)
    data = wav_bytes(pcm, 22_050)
    assert data[:4] == b"RIFF" and data[8:16] == b"WAVEfmt "
    assert len(data) == 44 + len(pcm)
    assert read_wav(data) == (pcm, 22_050)


def test_the_standard_library_reads_what_is_written() -> None:
    import io
    import wave

    pcm = sine(440, 0.1, 8_000)
    with wave.open(io.BytesIO(wav_bytes(pcm, 8_000))) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 8_000)
        assert wav.readframes(wav.getnframes()) == pcm


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (header(16_000, channels=2), "2 channel"),
        (header(16_000, bits=8), "8 bits"),
        (header(16_000, tag=3, bits=32), "format tag 0x0003"),
        (b"RIFX" + b"\x00" * 40, "big-endian"),
        (b"ID3\x03" + b"\x00" * 40, "not a WAV file"),
        (b"RIFF", "incomplete"),
    ],
)
def test_what_is_not_mono_16_bit_pcm_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        read_wav(data)


def test_streamed_with_placeholder_sizes_byte_by_byte() -> None:
    pcm = sine(440, 0.1, 22_050)
    reader = WavStreamReader()
    out = b"".join(reader.feed(bytes([byte])) for byte in header(22_050, data_size=0x7FFFF000) + pcm)
    assert out == pcm
    assert reader.format is not None and reader.format.sample_rate == 22_050


def test_a_real_data_size_stops_before_trailing_chunks() -> None:
    pcm = sine(440, 0.1, 16_000)
    extra = b"LIST" + struct.pack("<I", 4) + b"INFO"
    junk = b"JUNK" + struct.pack("<I", 3) + b"abc\x00"  # odd size: padded
    data = header(16_000)[:-8] + junk + b"data" + struct.pack("<I", len(pcm)) + pcm + extra
    assert read_wav(data) == (pcm, 16_000)
