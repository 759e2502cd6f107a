"""PCM audio helpers. All audio inside the agent is signed 16-bit little-endian mono PCM ("s16le")."""

from ai_agent.audio.pcm import (
    SAMPLE_WIDTH,
    FrameSplitter,
    duration_seconds,
    mix,
    rms_dbfs,
    swap_bytes,
)
from ai_agent.audio.resample import Resampler, resample
from ai_agent.audio.wav import WavStreamReader, read_wav, wav_bytes

__all__ = [
    "SAMPLE_WIDTH",
    "FrameSplitter",
    "Resampler",
    "WavStreamReader",
    "duration_seconds",
    "mix",
    "read_wav",
    "resample",
    "rms_dbfs",
    "swap_bytes",
    "wav_bytes",
]
