"""Resampling keeps a tone's pitch and the audio's length, in one go and streamed in odd-sized chunks."""

from __future__ import annotations

import pytest

from ai_agent.audio import Resampler, resample
from ai_agent.audio.testing import peak_frequency, sine

RATES = [(22_050, 16_000), (24_000, 16_000), (16_000, 8_000), (8_000, 16_000)]


def streamed(pcm: bytes, from_rate: int, to_rate: int, chunk_bytes: int) -> bytes:
    resampler = Resampler(from_rate, to_rate)
    pieces = [resampler.process(pcm[i : i + chunk_bytes]) for i in range(0, len(pcm), chunk_bytes)]
    return b"".join(pieces) + resampler.flush()


def check(out: bytes, seconds: float, to_rate: int) -> None:
    assert len(out) % 2 == 0
    assert abs(len(out) // 2 - round(seconds * to_rate)) <= 4
    assert peak_frequency(out, to_rate) == pytest.approx(440, abs=1.0)


@pytest.mark.parametrize(("from_rate", "to_rate"), RATES)
def test_one_shot_keeps_pitch_and_length(from_rate: int, to_rate: int) -> None:
    check(resample(sine(440, 1.0, from_rate), from_rate, to_rate), 1.0, to_rate)


@pytest.mark.parametrize(("from_rate", "to_rate"), RATES)
@pytest.mark.parametrize("chunk_bytes", [1, 333, 4801])
def test_odd_sized_chunks_give_the_same_audio(from_rate: int, to_rate: int, chunk_bytes: int) -> None:
    pcm = sine(440, 1.0, from_rate)
    out = streamed(pcm, from_rate, to_rate, chunk_bytes)
    check(out, 1.0, to_rate)
    assert out == resample(pcm, from_rate, to_rate)  # the odd byte carried over loses nothing


def test_equal_rates_pass_the_audio_through() -> None:
    pcm = sine(440, 0.1, 16_000)
    assert resample(pcm, 16_000, 16_000) == pcm
    assert streamed(pcm, 16_000, 16_000, 333) == pcm


def test_a_trailing_odd_byte_is_dropped_at_the_end() -> None:
    resampler = Resampler(16_000, 16_000)
    assert resampler.process(b"\x01\x02\x03") == b"\x01\x02"
    assert resampler.flush() == b""
    assert resampler.process(b"\x04\x05") == b"\x04\x05"  # the dropped byte does not come back


def test_the_resampler_can_be_used_again_after_flush() -> None:
    resampler = Resampler(24_000, 16_000)
    pcm = sine(440, 0.5, 24_000)
    first = resampler.process(pcm) + resampler.flush()
    second = resampler.process(pcm) + resampler.flush()
    assert first == second


def test_rates_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        Resampler(0, 16_000)
