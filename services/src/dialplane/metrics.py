"""Prometheus metrics helpers.

Metric names follow Prometheus conventions: the ``dialplane_`` namespace, base units (``_seconds``,
``_bytes``), counters ending ``_total``. Labels have low cardinality only: a route template, never a raw
path, a call id or a phone number. :class:`HttpMetricsMiddleware` counts and times every request;
:func:`metrics_response` renders the default registry for ``/metrics``.
"""

from __future__ import annotations

import time

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

NAMESPACE = "dialplane"

# Buckets for work measured in seconds, from sub-millisecond database calls to slow network requests.
LATENCY_BUCKETS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
)

HTTP_REQUESTS = Counter(
    "http_requests_total",
    "HTTP requests handled, by service, method, route and status.",
    ["service", "method", "route", "status"],
    namespace=NAMESPACE,
)
HTTP_REQUEST_DURATION = Histogram(
    "http_request_duration_seconds",
    "Time to handle an HTTP request.",
    ["service", "method", "route"],
    namespace=NAMESPACE,
    buckets=LATENCY_BUCKETS,
)
HTTP_IN_FLIGHT = Gauge(
    "http_requests_in_flight",
    "HTTP requests being handled.",
    ["service"],
    namespace=NAMESPACE,
)
SERVICE_INFO = Gauge(
    "service_info",
    "Always 1; labels describe the running service.",
    ["service", "version"],
    namespace=NAMESPACE,
)
DEPENDENCY_UP = Gauge(
    "dependency_up",
    "1 when a dependency answered the last readiness check, else 0.",
    ["service", "dependency"],
    namespace=NAMESPACE,
)


def route_template(scope: Scope) -> str:
    """The matched route's path template (``/calls/{id}``), or ``unmatched``."""
    app = scope.get("app")
    router = getattr(app, "router", None)
    for route in getattr(router, "routes", ()):
        match, _ = route.matches(scope)
        if match == Match.FULL:
            return str(getattr(route, "path", "unmatched"))
    return "unmatched"


class HttpMetricsMiddleware:
    """Pure ASGI middleware counting and timing HTTP requests."""

    def __init__(self, app: ASGIApp, *, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        start = time.perf_counter()

        async def send_and_record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        in_flight = HTTP_IN_FLIGHT.labels(self.service)
        in_flight.inc()
        try:
            await self.app(scope, receive, send_and_record)
        finally:
            in_flight.dec()
            route = route_template(scope)
            method = scope["method"]
            HTTP_REQUESTS.labels(self.service, method, route, str(status)).inc()
            HTTP_REQUEST_DURATION.labels(self.service, method, route).observe(time.perf_counter() - start)


def metrics_response(_: Request) -> Response:
    """The default registry in the Prometheus text format."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
