"""Configuration of webhook delivery (the dialer's settings fill it in)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    """How status callbacks are signed, sent and retried.

    ``timeout_seconds`` bounds one whole attempt (DNS, connect, send, response headers). A claimed
    delivery is leased for :attr:`lease_seconds`; a runner that dies mid-attempt loses its lease and the
    next runner tries again.
    """

    signing_secret: str = field(repr=False)
    timeout_seconds: float = 10.0
    max_attempts: int = 10
    backoff_base_seconds: float = 5.0
    backoff_cap_seconds: float = 900.0
    allow_private_targets: bool = False
    concurrency: int = 20
    poll_interval_seconds: float = 1.0

    def __post_init__(self) -> None:
        if not self.signing_secret:
            raise ValueError("the webhook signing secret must not be empty")
        if self.timeout_seconds <= 0 or self.poll_interval_seconds <= 0:
            raise ValueError("timeouts and intervals must be positive")
        if self.max_attempts < 1 or self.concurrency < 1:
            raise ValueError("max_attempts and concurrency must be at least 1")
        if self.backoff_base_seconds < 0 or self.backoff_cap_seconds < self.backoff_base_seconds:
            raise ValueError("backoff needs 0 <= base <= cap")

    @property
    def lease_seconds(self) -> float:
        """How long a claim lasts: one attempt is cut off at the timeout, so twice that plus a margin."""
        return 2 * self.timeout_seconds + 1.0

    def retry_delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based): exponential, capped,
        with jitter between half and all of it."""
        ceiling = min(self.backoff_cap_seconds, self.backoff_base_seconds * 2.0 ** min(attempt - 1, 60))
        return ceiling * random.uniform(0.5, 1.0)
