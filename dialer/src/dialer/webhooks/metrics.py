"""Metrics of webhook delivery (namespace ``dialplane``; no call ids or hosts as labels)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from dialplane.metrics import LATENCY_BUCKETS, NAMESPACE

OUTCOMES = ("delivered", "retry", "failed", "refused")

DELIVERIES = Counter(
    "webhook_deliveries_total",
    "Webhook delivery attempts by outcome: delivered (2xx), retry (will be tried again), failed (gave up "
    "after the last attempt), refused (target address not allowed).",
    ["outcome"],
    namespace=NAMESPACE,
)
DURATION = Histogram(
    "webhook_delivery_duration_seconds",
    "Time of one delivery attempt (DNS, connect, request, response headers).",
    namespace=NAMESPACE,
    buckets=LATENCY_BUCKETS,
)
PENDING = Gauge(
    "webhook_deliveries_pending",
    "Webhook deliveries not yet delivered or failed (the whole database; refreshed by each runner).",
    namespace=NAMESPACE,
)
OLDEST_PENDING_AGE = Gauge(
    "webhook_oldest_pending_age_seconds",
    "Age of the oldest pending webhook delivery (0 when none).",
    namespace=NAMESPACE,
)

for _outcome in OUTCOMES:
    DELIVERIES.labels(_outcome)  # export every outcome at 0 from the start
