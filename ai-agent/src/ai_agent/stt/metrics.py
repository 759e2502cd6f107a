"""Metrics of the speech-to-text providers. ``provider`` is ``whisper``, ``openai`` or ``deepgram`` (or
a configured name); ``outcome`` and ``reason`` are the short fixed words listed in
``docs/speech-to-text.md``."""

from __future__ import annotations

import asyncio
import time

from prometheus_client import Counter, Histogram

from ai_agent.stt.types import SttRateLimitedError, SttTimeoutError
from dialplane.metrics import NAMESPACE

# From a streaming provider's ~0.1 s to the seconds a slow CPU or a retried request takes.
TURN_BUCKETS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0)

STT_TURNS = Counter(
    "stt_turns_total",
    "Turns transcribed, by provider and outcome (after the provider's own retries).",
    ["provider", "outcome"],
    namespace=NAMESPACE,
)
STT_TURN_SECONDS = Histogram(
    "stt_turn_seconds",
    "Time from the end of a turn (end_of_turn) to its final transcript.",
    ["provider"],
    namespace=NAMESPACE,
    buckets=TURN_BUCKETS,
)
STT_RETRIES = Counter(
    "stt_retries_total",
    "Requests sent again or connections reopened, by provider and the reason.",
    ["provider", "reason"],
    namespace=NAMESPACE,
)


def record_turn(provider: str, outcome: str, started: float) -> None:
    """Count a finished turn; ``started`` is a ``time.monotonic()`` reading."""
    STT_TURNS.labels(provider, outcome).inc()
    if outcome in ("ok", "unconfirmed"):
        STT_TURN_SECONDS.labels(provider).observe(time.monotonic() - started)


class TurnMetrics:
    """Times one ``end_of_turn`` and counts its outcome: ``ok`` unless the block sets another (a provider's
    ``unconfirmed``) or raises (``rate_limited``, ``timeout``, ``error``, ``cancelled``)."""

    def __init__(self, provider: str) -> None:
        self.provider = provider
        self.outcome = "ok"
        self.started = time.monotonic()

    def __enter__(self) -> TurnMetrics:
        self.started = time.monotonic()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        record_turn(self.provider, self.outcome if exc is None else _outcome(exc), self.started)


def _outcome(exc: BaseException) -> str:
    if isinstance(exc, SttRateLimitedError):
        return "rate_limited"
    if isinstance(exc, SttTimeoutError):
        return "timeout"
    if isinstance(exc, asyncio.CancelledError):
        return "cancelled"
    return "error"
