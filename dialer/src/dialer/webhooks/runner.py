"""The delivery runner: claims due deliveries, attempts them (up to ``concurrency`` at once), and stores
each outcome.

Claims use ``FOR UPDATE SKIP LOCKED`` and a lease, so runners in several processes share the work and a
delivery whose runner died is taken again when the lease expires. Only the oldest pending delivery of each
call is claimable, so a call's callbacks arrive in order; one that finally failed no longer holds the
next back. Runners wake up every ``poll_interval_seconds``, when an attempt finishes, and — given the
event stream's :class:`~dialplane.events.wakeup.Listener` — when a delivery is enqueued.
"""

from __future__ import annotations

import time
import uuid
from urllib.parse import urlsplit

import httpx
import structlog

from dialer.webhooks import metrics, repository
from dialer.webhooks.config import WebhookConfig
from dialer.webhooks.repository import Delivery, Outcome, Status
from dialer.webhooks.sender import AttemptResult, attempt
from dialer.webhooks.targets import Resolver, system_resolver
from dialplane.claiming import ClaimLoop
from dialplane.db import SessionFactory, transaction
from dialplane.events.wakeup import COMMANDS_CHANNEL, Listener

log = structlog.get_logger(__name__)

STATS_INTERVAL_SECONDS = 15.0
EXHAUSTED_ERROR = "attempts exhausted (the runner was lost during the last attempt)"


class WebhookRunner:
    """Delivers status callbacks; ``run()`` returns once ``stop()`` was called and attempts in flight
    have finished (each is bounded by the timeout)."""

    def __init__(
        self,
        sessions: SessionFactory,
        client: httpx.AsyncClient,
        config: WebhookConfig,
        *,
        listener: Listener | None = None,
        resolver: Resolver = system_resolver,
        name: str = "webhooks",
    ) -> None:
        self.name = name
        self._sessions = sessions
        self._client = client
        self._config = config
        self._listener = listener
        self._resolver = resolver
        self._stats_due = 0.0
        self._loop = ClaimLoop(
            self._claim,
            lambda claimed: self._process(*claimed),
            concurrency=config.concurrency,
            poll_interval=config.poll_interval_seconds,
            each_round=self._refresh_stats,
        )

    def stop(self) -> None:
        self._loop.stop()

    async def run(self) -> None:
        if self._listener is None:
            await self._loop.run()
            return
        with self._listener.registered(COMMANDS_CHANNEL, [repository.WAKEUP_NAME], self._loop.signal):
            await self._loop.run()

    async def _claim(self, limit: int) -> list[tuple[Delivery, str]]:
        token = uuid.uuid4().hex
        try:
            async with transaction(self._sessions) as session:
                claimed = await repository.claim(
                    session, limit=limit, token=token, lease_seconds=self._config.lease_seconds
                )
        except Exception:
            log.exception("webhook_claim_failed")
            return []
        return [(delivery, token) for delivery in claimed]

    async def _process(self, delivery: Delivery, token: str) -> None:
        host = urlsplit(delivery.url).hostname
        with structlog.contextvars.bound_contextvars(
            call_id=delivery.call_id, delivery_id=delivery.id, host=host
        ):
            try:
                if delivery.attempts > self._config.max_attempts:
                    await self._give_up(delivery, token)
                    return
                result = await attempt(self._client, self._config, delivery, resolver=self._resolver)
                metrics.DURATION.observe(result.duration_seconds)
                await self._store(delivery, token, result)
            except Exception:
                log.exception("webhook_delivery_crashed")  # the lease expires; another attempt follows

    async def _store(self, delivery: Delivery, token: str, result: AttemptResult) -> None:
        outcome, label = self._outcome(delivery, result)
        async with transaction(self._sessions) as session:
            stored = await repository.finish(session, delivery.id, token, outcome)
        if not stored:
            log.warning("webhook_lease_lost", attempt=delivery.attempts)
            return
        metrics.DELIVERIES.labels(label).inc()
        _log_outcome(label, delivery, result, outcome)

    def _outcome(self, delivery: Delivery, result: AttemptResult) -> tuple[Outcome, str]:
        status, label, delay = self._decide(delivery, result)
        duration_ms = round(result.duration_seconds * 1000)
        outcome = Outcome(status, result.started_at, duration_ms, result.status_code, result.error, delay)
        return outcome, label

    def _decide(self, delivery: Delivery, result: AttemptResult) -> tuple[Status, str, float]:
        """The delivery's new status, the metric label, and the delay before the next attempt."""
        if result.kind == "delivered":
            return "delivered", "delivered", 0.0
        if result.kind == "refused":
            return "failed", "refused", 0.0
        if delivery.attempts >= self._config.max_attempts:
            return "failed", "failed", 0.0
        return "pending", "retry", self._config.retry_delay(delivery.attempts)

    async def _give_up(self, delivery: Delivery, token: str) -> None:
        async with transaction(self._sessions) as session:
            stored = await repository.give_up(session, delivery.id, token, EXHAUSTED_ERROR)
        if stored:
            metrics.DELIVERIES.labels("failed").inc()
            log.error("webhook_failed", attempts=delivery.attempts - 1, error=EXHAUSTED_ERROR)

    async def _refresh_stats(self) -> None:
        if time.monotonic() < self._stats_due:
            return
        self._stats_due = time.monotonic() + STATS_INTERVAL_SECONDS
        try:
            async with transaction(self._sessions) as session:
                pending, oldest_age = await repository.pending_stats(session)
        except Exception:
            log.exception("webhook_stats_failed")
            return
        metrics.PENDING.set(pending)
        metrics.OLDEST_PENDING_AGE.set(oldest_age)


def _log_outcome(label: str, delivery: Delivery, result: AttemptResult, outcome: Outcome) -> None:
    fields = {
        "event_type": delivery.event_type,
        "attempt": delivery.attempts,
        "status_code": result.status_code,
        "duration_ms": outcome.duration_ms,
    }
    if label == "delivered":
        log.info("webhook_delivered", **fields)
    elif label == "retry":
        log.warning("webhook_attempt_failed", error=result.error, retry_in=outcome.retry_in_seconds, **fields)
    else:
        log.error(f"webhook_{label}", error=result.error, **fields)
