"""The token bucket, driven by a fake clock."""

from __future__ import annotations

import pytest

from gateway.auth.rate_limit import RateLimiter, retry_after_header
from gateway.testing import FakeClock


def test_a_full_bucket_allows_a_burst_then_refuses_with_the_wait() -> None:
    limiter = RateLimiter(FakeClock())
    assert [limiter.take("user:alice", 3) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("user:alice", 3) == pytest.approx(20.0)  # 3 per minute: one token every 20 s


def test_tokens_come_back_with_time() -> None:
    clock = FakeClock()
    limiter = RateLimiter(clock)
    for _ in range(60):
        limiter.take("k", 60)
    assert limiter.take("k", 60) == pytest.approx(1.0)
    clock.advance(0.5)
    assert limiter.wait_time("k", 60) == pytest.approx(0.5)
    clock.advance(0.5)
    assert limiter.take("k", 60) == 0.0
    assert limiter.take("k", 60) > 0


def test_keys_have_separate_buckets() -> None:
    limiter = RateLimiter(FakeClock())
    assert limiter.take("a", 1) == 0.0
    assert limiter.take("a", 1) > 0
    assert limiter.take("b", 1) == 0.0


def test_wait_time_does_not_take() -> None:
    limiter = RateLimiter(FakeClock())
    assert limiter.wait_time("k", 1) == 0.0
    assert limiter.take("k", 1) == 0.0


def test_idle_buckets_are_forgotten_when_there_are_too_many() -> None:
    clock = FakeClock()
    limiter = RateLimiter(clock, max_keys=3)
    for key in ("a", "b", "c"):
        limiter.take(key, 10)
    clock.advance(61)
    limiter.take("d", 10)
    assert len(limiter) == 1


@pytest.mark.parametrize(("seconds", "header"), [(0.01, "1"), (1.0, "1"), (1.2, "2"), (20.0, "20")])
def test_retry_after_is_whole_seconds_rounded_up(seconds: float, header: str) -> None:
    assert retry_after_header(seconds) == header
