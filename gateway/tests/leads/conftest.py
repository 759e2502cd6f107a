"""Fixtures of the gateway's leads routes: the gateway in front of a fake dialer that records what reaches
it, and credentials (users' tokens, API keys) holding chosen scopes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from dialplane.db import SessionFactory, transaction
from gateway.api_keys.service import create_api_key
from gateway.settings import Settings
from gateway.testing import FakeClock, add_user, bearer, gateway_client, login

PASSWORD = "correct horse battery"


@dataclass
class FakeDialer:
    """Answers every request with ``status`` and ``body``, and keeps the requests."""

    status: int = 200
    body: Any = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    seen: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        if self.status == 204:
            return httpx.Response(204)
        return httpx.Response(self.status, json=self.body, headers=self.headers)


@asynccontextmanager
async def gateway_to(
    settings: Settings, dialer: httpx.AsyncBaseTransport | FakeDialer, clock: FakeClock | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """A running gateway whose dialer is ``dialer`` (a fake, or a transport to a real one)."""
    transport = httpx.MockTransport(dialer) if isinstance(dialer, FakeDialer) else dialer
    async with gateway_client(settings, clock=clock, dialer_transport=transport) as client:
        yield client


async def user_headers(
    client: httpx.AsyncClient, sessions: SessionFactory, name: str, scopes: Iterable[str]
) -> dict[str, str]:
    await add_user(sessions, name, PASSWORD, list(scopes))
    return bearer(await login(client, name, PASSWORD))


async def api_key_headers(sessions: SessionFactory, name: str, scopes: Iterable[str]) -> dict[str, str]:
    async with transaction(sessions) as session:
        issued = await create_api_key(session, name, scopes, 1000, "user:root")
    return {"X-API-Key": issued.key}
