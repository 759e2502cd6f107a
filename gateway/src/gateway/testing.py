"""Test support for the gateway: settings, a client with a controllable clock, users, tokens, captured logs.

Used by the gateway's tests and by tests of the routes other parts add to the gateway.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import APIRouter

from dialplane.db import SessionFactory, transaction
from dialplane.testing.http import app_client, service_settings
from gateway.auth.tokens import sign
from gateway.main import create_app
from gateway.settings import Settings
from gateway.users import service as users
from gateway.users.repository import User

TEST_JWT_SECRET = "jwt-secret-for-tests-only-0123456789abcdef"  # noqa: S105 (a test value, not a secret)
TEST_BCRYPT_COST = 4  # tests' users: about 1 ms per hash or login instead of the real cost's 0.25 s


class FakeClock:
    """A monotonic clock that only moves when told to."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def gateway_settings(database_url: str, **overrides: Any) -> Settings:
    """Gateway settings for tests: the test database, ``environment=test`` and a real-looking JWT secret."""
    return service_settings(Settings, database_url, **{"jwt_secret": TEST_JWT_SECRET, **overrides})


@asynccontextmanager
async def gateway_client(
    settings: Settings,
    *,
    clock: FakeClock | None = None,
    routers: Iterable[APIRouter] = (),
    dialer_transport: httpx.AsyncBaseTransport | None = None,
) -> AsyncIterator[httpx.AsyncClient]:
    """A client for a running gateway (lifespan started), with extra routers (e.g. test-only routes) and the
    dialer behind ``dialer_transport`` (e.g. an ``httpx.MockTransport``)."""
    app = create_app(settings, clock=clock or FakeClock(), dialer_transport=dialer_transport)
    for router in routers:
        app.include_router(router)
    async with app_client(app) as client:
        yield client


async def add_user(
    sessions: SessionFactory,
    name: str,
    password: str,
    scopes: Iterable[str] | None = None,
    *,
    cost: int = TEST_BCRYPT_COST,
) -> User:
    async with transaction(sessions) as session:
        return await users.create_user(session, name, password, scopes, cost=cost)


async def disable_user(sessions: SessionFactory, name: str) -> User:
    async with transaction(sessions) as session:
        return await users.disable_user(session, name)


async def change_password(sessions: SessionFactory, name: str, password: str) -> User:
    async with transaction(sessions) as session:
        return await users.set_password(session, name, password, cost=TEST_BCRYPT_COST)


async def login(client: httpx.AsyncClient, name: str, password: str, scope: str | None = None) -> str:
    """An access token for the user (fails the test if the login is refused)."""
    form = {"username": name, "password": password} | ({} if scope is None else {"scope": scope})
    response = await client.post("/api/v1/token", data=form)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def craft_token(settings: Settings, **claims: Any) -> str:
    """A token signed with the settings' secret: valid-looking claims for ``alice``, changed by ``claims``
    (a claim given as ``None`` is left out)."""
    now = int(time.time())
    base: dict[str, Any] = {
        "sub": "alice",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "scope": "",
        "pwd_at": 0,
    }
    merged = {name: value for name, value in (base | claims).items() if value is not None}
    return sign(settings, merged)
