"""Metrics of the text-to-speech providers. ``provider`` is ``espeak``, ``openai`` or ``elevenlabs``;
``outcome`` and ``reason`` are the short fixed words listed in ``docs/text-to-speech.md``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from contextlib import aclosing

from prometheus_client import Counter, Histogram

from ai_agent.tts.types import TtsRateLimitedError, TtsTimeoutError
from dialplane.metrics import NAMESPACE

# Time to the first audio: a few milliseconds (espeak-ng) to the seconds a caller notices.
FIRST_CHUNK_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)

TTS_REQUESTS = Counter(
    "tts_requests_total",
    "Speech asked of a text-to-speech provider, by provider and outcome (after the provider's own retries).",
    ["provider", "outcome"],
    namespace=NAMESPACE,
)
TTS_FIRST_CHUNK = Histogram(
    "tts_first_chunk_seconds",
    "Time from asking for speech to its first audio chunk, retries included.",
    ["provider"],
    namespace=NAMESPACE,
    buckets=FIRST_CHUNK_BUCKETS,
)
TTS_RETRIES = Counter(
    "tts_retries_total",
    "Requests to a text-to-speech provider sent again, by provider and the reason the previous one failed.",
    ["provider", "reason"],
    namespace=NAMESPACE,
)
TTS_AUDIO_SECONDS = Counter(
    "tts_audio_seconds_total",
    "Seconds of speech produced, by provider.",
    ["provider"],
    namespace=NAMESPACE,
)


async def metered(
    provider: str, sample_rate: int, chunks: AsyncGenerator[bytes, None]
) -> AsyncGenerator[bytes, None]:
    """``chunks`` passed through (and closed), counting the request, its outcome (``ok``, ``cancelled``
    when closed early, ``rate_limited``, ``timeout``, ``error``), the first chunk's delay and the audio."""
    loop = asyncio.get_running_loop()
    started, first, produced, outcome = loop.time(), True, 0, "cancelled"
    try:
        async with aclosing(chunks):
            async for chunk in chunks:
                if first and chunk:
                    first = False
                    TTS_FIRST_CHUNK.labels(provider).observe(loop.time() - started)
                produced += len(chunk)
                yield chunk
        outcome = "ok"
    except Exception as exc:
        outcome = _outcome(exc)
        raise
    finally:
        TTS_REQUESTS.labels(provider, outcome).inc()
        TTS_AUDIO_SECONDS.labels(provider).inc(produced / (2 * sample_rate))


def _outcome(error: Exception) -> str:
    if isinstance(error, TtsRateLimitedError):
        return "rate_limited"
    if isinstance(error, TtsTimeoutError):
        return "timeout"
    return "error"
