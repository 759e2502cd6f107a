"""The gateway service application: the public API. It authenticates, then forwards to the internal service
that owns the resource (the dialer for calls, the ai-agent for profiles, meetings and conversations), and
serves live call events.

Besides the shared plumbing of :func:`dialplane.app.create_service_app`: the token and API-key routes, an
in-memory rate limiter (its clock injectable for tests), the dialer and ai-agent clients (their transports
injectable) and the live event view, all made in ``lifespan()``; and a request body size limit.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from starlette.middleware import Middleware

from dialplane.app import create_service_app
from dialplane.calls import CALLS_STREAM, CONVERSATIONS_STREAM
from dialplane.runners import running
from gateway import agent, analytics, campaigns, do_not_call, lead_imports, leads, refusals
from gateway.api_keys import api as api_keys_api
from gateway.auth import api as auth_api
from gateway.auth.body_limit import BodySizeLimitMiddleware
from gateway.auth.rate_limit import Clock, RateLimiter
from gateway.calls import api as calls_api
from gateway.calls.forward import Forwarder
from gateway.live import api as live_api
from gateway.settings import Settings


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock = time.monotonic,
    dialer_transport: httpx.AsyncBaseTransport | None = None,
    ai_agent_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def gateway_resources(app: FastAPI) -> AsyncIterator[None]:
        app.state.rate_limiter = RateLimiter(clock)
        live_events = app.state.event_stream.live([CALLS_STREAM, CONVERSATIONS_STREAM])
        app.state.live_events = live_events
        async with (
            _internal_client(settings, settings.dialer_url, dialer_transport) as dialer,
            _internal_client(settings, settings.ai_agent_url, ai_agent_transport) as ai_agent,
            running([live_events]),
        ):
            secret = settings.internal_token.get_secret_value()
            app.state.dialer = Forwarder(dialer, secret, "dialer")
            app.state.ai_agent = Forwarder(ai_agent, secret, "ai_agent")
            yield

    app = create_service_app(
        settings,
        title="Dialplane Gateway",
        routers=[
            auth_api.router,
            api_keys_api.router,
            calls_api.router,
            live_api.router,
            *agent.routers,
            lead_imports.api.router,  # before leads: /leads/import is not a lead id
            leads.api.router,
            campaigns.api.router,
            do_not_call.api.router,
            refusals.api.router,
            analytics.api.router,
        ],
        extra_lifespan=gateway_resources,
    )
    # Innermost of the middleware (add_middleware would make it outermost), so a 413 still gets its request
    # id and is counted in the HTTP metrics.
    app.user_middleware.append(Middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes))
    return app


def _internal_client(
    settings: Settings, base_url: str, transport: httpx.AsyncBaseTransport | None
) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=base_url, timeout=settings.internal_timeout_seconds, transport=transport, trust_env=False
    )
