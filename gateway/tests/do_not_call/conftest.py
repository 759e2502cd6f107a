"""Fixtures of the gateway's do-not-call and dial-refusal routes: the gateway in front of a running dialer
(served in-process through an ASGI transport, on the same test database), and users holding chosen scopes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable

import httpx
import pytest
import pytest_asyncio

from dialer.main import create_app as create_dialer
from dialer.testing import FixedClock, dialer_settings, set_clock
from dialplane.db import SessionFactory
from dialplane.testing.http import app_client
from gateway.main import create_app
from gateway.testing import FakeClock, add_user, bearer, gateway_settings, login

PASSWORD = "correct horse battery"
MAX_BODY_BYTES = 64 * 1024
Login = Callable[[Iterable[str]], Awaitable[dict[str, str]]]


@pytest_asyncio.fixture
async def client(database_url: str, sessions: SessionFactory) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway (bodies up to 64 KiB), forwarding to a running dialer."""
    dialer = create_dialer(dialer_settings(database_url, default_caller_id="+12025550199"))
    set_clock(dialer, FixedClock())
    async with dialer.router.lifespan_context(dialer):
        transport = httpx.ASGITransport(app=dialer, raise_app_exceptions=False)
        settings = gateway_settings(database_url, max_body_bytes=MAX_BODY_BYTES)
        app = create_app(settings, clock=FakeClock(), dialer_transport=transport)
        async with app_client(app) as client:
            yield client


@pytest.fixture
def log_in(client: httpx.AsyncClient, sessions: SessionFactory) -> Login:
    """``await log_in(scopes)``: the headers of a new user holding ``scopes``."""
    count = 0

    async def with_scopes(scopes: Iterable[str]) -> dict[str, str]:
        nonlocal count
        count += 1
        name = f"user{count}"
        await add_user(sessions, name, PASSWORD, list(scopes))
        return bearer(await login(client, name, PASSWORD))

    return with_scopes
