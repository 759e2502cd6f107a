"""Revoking access takes effect on the very next request, on a real forwarded route: a disabled user's
still-valid token, a disabled API key and a rotated key's old secret are refused, and nothing reaches the
dialer."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest_asyncio

from dialplane.db import SessionFactory
from gateway.settings import Settings
from gateway.testing import add_user, bearer, disable_user, gateway_client, login

CALLS = "/api/v1/calls"
KEYS = "/api/v1/api-keys"
PASSWORD = "s3cret-pass"


@pytest_asyncio.fixture
async def forwarded(
    settings: Settings, sessions: SessionFactory
) -> AsyncIterator[tuple[httpx.AsyncClient, list[str]]]:
    """The gateway, and the paths its (stub) dialer was asked for."""
    received: list[str] = []

    def dialer(request: httpx.Request) -> httpx.Response:
        received.append(request.url.path)
        return httpx.Response(200, json={"items": [], "next_cursor": None})

    async with gateway_client(settings, dialer_transport=httpx.MockTransport(dialer)) as client:
        yield client, received


async def refused(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    response = await client.get(CALLS, headers=headers)
    assert response.status_code == 401, response.text
    reason: str = response.json()["reason"]
    return reason


async def test_a_disabled_users_valid_token_stops_at_once(
    forwarded: tuple[httpx.AsyncClient, list[str]], sessions: SessionFactory
) -> None:
    client, received = forwarded
    await add_user(sessions, "alice", PASSWORD, ["calls:read"])
    token = bearer(await login(client, "alice", PASSWORD))
    assert (await client.get(CALLS, headers=token)).status_code == 200
    await disable_user(sessions, "alice")
    assert await refused(client, token) == "disabled_user"
    assert received == [CALLS]


async def test_a_disabled_or_rotated_api_key_stops_at_once(
    forwarded: tuple[httpx.AsyncClient, list[str]], sessions: SessionFactory
) -> None:
    client, received = forwarded
    await add_user(sessions, "root", PASSWORD, ["admin"])
    admin = bearer(await login(client, "root", PASSWORD))
    created = [
        (await client.post(KEYS, json={"name": name, "scopes": ["calls:read"]}, headers=admin)).json()
        for name in ("to-disable", "to-rotate")
    ]
    disabled, rotated = ({"X-API-Key": key["key"]} for key in created)
    assert [(await client.get(CALLS, headers=h)).status_code for h in (disabled, rotated)] == [200, 200]
    assert (await client.post(f"{KEYS}/{created[0]['id']}/disable", headers=admin)).status_code == 200
    new_key = (await client.post(f"{KEYS}/{created[1]['id']}/rotate", headers=admin)).json()["key"]
    assert await refused(client, disabled) == "api_key_disabled"
    assert await refused(client, rotated) == "invalid_api_key"
    assert (await client.get(CALLS, headers={"X-API-Key": new_key})).status_code == 200
    assert received == [CALLS] * 3
