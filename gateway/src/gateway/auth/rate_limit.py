"""Token-bucket rate limits, in memory.

Each key (a principal id, or ``login:<name>`` for failed logins) has a bucket holding up to ``per_minute``
tokens, refilled continuously at ``per_minute / 60`` per second; a request takes one. The state lives in this
process only: run one gateway process, or divide the limits by the number of processes.

The clock is injected (``time.monotonic`` by default), so tests advance time instead of sleeping.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

Clock = Callable[[], float]

MAX_KEYS = 100_000  # past this, buckets that have refilled (the same as no bucket) are forgotten


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(self, clock: Clock = time.monotonic, *, max_keys: int = MAX_KEYS) -> None:
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: dict[str, _Bucket] = {}

    def take(self, key: str, per_minute: int) -> float:
        """Take a token: 0 if one was available, else the seconds until one will be (nothing taken)."""
        bucket = self._refilled(key, per_minute)
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return self._wait(bucket, per_minute)

    def give_back(self, key: str, per_minute: int) -> None:
        """Return a token taken for something that turned out not to count (never above ``per_minute``)."""
        bucket = self._refilled(key, per_minute)
        bucket.tokens = min(float(per_minute), bucket.tokens + 1)

    def wait_time(self, key: str, per_minute: int) -> float:
        """The seconds until a token is available (0 if one is), without taking it."""
        return self._wait(self._refilled(key, per_minute), per_minute)

    def _refilled(self, key: str, per_minute: int) -> _Bucket:
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            self._forget_full_buckets(now)
            bucket = self._buckets[key] = _Bucket(float(per_minute), now)
        elapsed = max(now - bucket.updated, 0.0)
        bucket.tokens = min(float(per_minute), bucket.tokens + elapsed * per_minute / 60)
        bucket.updated = now
        return bucket

    @staticmethod
    def _wait(bucket: _Bucket, per_minute: int) -> float:
        return max(1 - bucket.tokens, 0.0) * 60 / per_minute

    def _forget_full_buckets(self, now: float) -> None:
        """Bound the memory: a bucket idle for a minute is full again, the same as no bucket at all."""
        if len(self._buckets) >= self._max_keys:
            self._buckets = {k: b for k, b in self._buckets.items() if now - b.updated < 60}

    def __len__(self) -> int:
        return len(self._buckets)


def retry_after_header(seconds: float) -> str:
    """A ``Retry-After`` value: whole seconds, rounded up, at least 1."""
    return str(max(math.ceil(seconds - 1e-6), 1))  # 1e-6: no extra second for a float rounding error
