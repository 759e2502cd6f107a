"""Fixtures of the gateway's lead import routes: the gateway in front of a running dialer (served in-process
through an ASGI transport, on the same test database), and users holding chosen scopes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import pytest_asyncio

from dialer.main import create_app as create_dialer
from dialer.testing import dialer_settings
from dialplane.db import SessionFactory
from dialplane.testing.http import app_client
from gateway.main import create_app
from gateway.testing import FakeClock, add_user, bearer, gateway_settings, login

PASSWORD = "correct horse battery"
Login = Callable[[Iterable[str]], Awaitable[dict[str, str]]]


@asynccontextmanager
async def gateway_to_dialer(database_url: str, **gateway_overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a running gateway whose dialer runs in-process (its import worker asleep)."""
    dialer = create_dialer(dialer_settings(database_url, import_poll_interval_seconds=60))
    async with dialer.router.lifespan_context(dialer):
        transport = httpx.ASGITransport(app=dialer, raise_app_exceptions=False)
        settings = gateway_settings(database_url, **gateway_overrides)
        app = create_app(settings, clock=FakeClock(), dialer_transport=transport)
        async with app_client(app) as client:
            yield client


@pytest_asyncio.fixture
async def client(database_url: str, sessions: SessionFactory) -> AsyncIterator[httpx.AsyncClient]:
    async with gateway_to_dialer(database_url) as client:
        yield client


def logins(client: httpx.AsyncClient, sessions: SessionFactory) -> Login:
    count = 0

    async def with_scopes(scopes: Iterable[str]) -> dict[str, str]:
        nonlocal count
        count += 1
        await add_user(sessions, f"user{count}", PASSWORD, list(scopes))
        return bearer(await login(client, f"user{count}", PASSWORD))

    return with_scopes


@pytest.fixture
def log_in(client: httpx.AsyncClient, sessions: SessionFactory) -> Login:
    """``await log_in(scopes)``: the headers of a new user holding ``scopes``."""
    return logins(client, sessions)
