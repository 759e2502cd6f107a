"""Configuration: refused when it cannot work; retry delays grow exponentially, capped, with jitter."""

from __future__ import annotations

import pytest

from dialer.webhooks import WebhookConfig


@pytest.mark.parametrize(
    "changes",
    [
        {"signing_secret": ""},
        {"timeout_seconds": 0},
        {"max_attempts": 0},
        {"concurrency": 0},
        {"poll_interval_seconds": 0},
        {"backoff_base_seconds": 10, "backoff_cap_seconds": 5},
    ],
)
def test_unusable_settings_are_refused(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        WebhookConfig(**{"signing_secret": "s", **changes})  # type: ignore[arg-type]


def test_retry_delays_double_up_to_the_cap_with_jitter() -> None:
    config = WebhookConfig(signing_secret="s", backoff_base_seconds=5, backoff_cap_seconds=60)
    for attempt, ceiling in [(1, 5), (2, 10), (3, 20), (4, 40), (5, 60), (50, 60), (5000, 60)]:
        delays = [config.retry_delay(attempt) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)


def test_the_secret_is_not_in_the_repr() -> None:
    assert "hush" not in repr(WebhookConfig(signing_secret="hush"))
    assert WebhookConfig(signing_secret="s", timeout_seconds=10).lease_seconds == 21
