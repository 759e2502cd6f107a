"""``authenticate``, ``CurrentPrincipal`` and ``requires``: 401 with a challenge, 403 naming the scope, 429
with Retry-After, and tokens that stop working when their user is disabled or changes password."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

import httpx
import pytest
import pytest_asyncio
from fastapi import APIRouter, Depends
from jose import jwt
from pydantic import SecretStr
from sqlalchemy import text

from dialplane.db import SessionFactory, transaction
from dialplane.internal_auth import Principal
from gateway.auth.dependencies import authenticate, requires
from gateway.auth.tokens import microseconds
from gateway.settings import Settings
from gateway.testing import (
    FakeClock,
    add_user,
    bearer,
    change_password,
    craft_token,
    disable_user,
    gateway_client,
    gateway_settings,
    login,
)

probe = APIRouter(prefix="/test")


@probe.get("/read-calls")
async def read_calls(principal: Annotated[Principal, requires("calls:read")]) -> dict[str, Any]:
    return {"id": principal.id}


@probe.get("/write-calls")
async def write_calls(principal: Annotated[Principal, requires("calls:write")]) -> dict[str, Any]:
    return {"id": principal.id}


@probe.get("/anyone")
async def anyone(principal: Annotated[Principal, Depends(authenticate)]) -> dict[str, Any]:
    return {"id": principal.id, "scopes": sorted(principal.scopes)}


ISSUER, AUDIENCE = "https://dialplane.test", "dialplane-api"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return gateway_settings(
        database_url, jwt_issuer=ISSUER, jwt_audience=AUDIENCE, user_rate_limit_per_minute=3
    )


@pytest_asyncio.fixture
async def client(
    settings: Settings, clock: FakeClock, sessions: SessionFactory
) -> AsyncIterator[httpx.AsyncClient]:
    async with gateway_client(settings, clock=clock, routers=[probe]) as running:
        yield running


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def assert_invalid_token(response: httpx.Response, reason: str) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert (response.json()["code"], response.json()["reason"]) == ("invalid_token", reason)


async def test_no_credentials_get_a_401_with_a_bearer_challenge(client: httpx.AsyncClient) -> None:
    for headers in ({}, {"Authorization": "Basic YWxpY2U6cHc="}):
        response = await client.get("/test/read-calls", headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["reason"] == "missing_credentials"
        assert "X-API-Key" in response.json()["detail"]
    assert (await client.get("/api/v1/me")).status_code == 401


def flawed_tokens(settings: Settings, valid: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Tokens for alice that differ from a valid one in one way each, and the reason each is refused."""
    other_key = settings.model_copy(update={"jwt_secret": SecretStr("x" * 40)})
    other_alg = settings.model_copy(update={"jwt_algorithm": "HS512"})
    now = int(time.time())
    header, payload, signature = craft_token(settings, **valid).split(".")
    admin_payload = b64(jwt.get_unverified_claims(f"{header}.{payload}.{signature}") | {"scope": "admin"})
    return {
        "expired": (craft_token(settings, **valid | {"iat": now - 700, "exp": now - 100}), "expired"),
        "nbf in the future": (craft_token(settings, **valid | {"nbf": now + 300}), "not_yet_valid"),
        "tampered": (f"{header}.{admin_payload}.{signature}", "bad_signature"),
        "alg none": (f"{b64({'alg': 'none', 'typ': 'JWT'})}.{admin_payload}.", "bad_algorithm"),
        "another algorithm": (craft_token(other_alg, **valid), "bad_algorithm"),
        "wrong key": (craft_token(other_key, **valid), "bad_signature"),
        "wrong audience": (craft_token(settings, **valid | {"aud": "other-api"}), "bad_audience"),
        "wrong issuer": (craft_token(settings, **valid | {"iss": "https://evil.test"}), "bad_issuer"),
        "not a JWT": ("not-a-jwt", "malformed"),
    }


async def test_every_flawed_token_is_refused_while_a_sound_one_passes(
    client: httpx.AsyncClient, sessions: SessionFactory, settings: Settings
) -> None:
    user = await add_user(sessions, "alice", "s3cret-pass", ["calls:read"])
    valid = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "scope": "calls:read",
        "pwd_at": microseconds(user.password_changed_at),
    }
    sound = await client.get("/test/read-calls", headers=bearer(craft_token(settings, **valid)))
    assert sound.status_code == 200, sound.text
    for name, (token, reason) in flawed_tokens(settings, valid).items():
        response = await client.get("/test/read-calls", headers=bearer(token))
        assert response.json().get("reason") == reason, name
        assert_invalid_token(response, reason)
        assert settings.jwt_secret.get_secret_value() not in response.text


async def test_a_missing_scope_is_403_naming_it(client: httpx.AsyncClient, sessions: SessionFactory) -> None:
    await add_user(sessions, "alice", "s3cret-pass", ["calls:read"])
    token = await login(client, "alice", "s3cret-pass")
    assert (await client.get("/test/read-calls", headers=bearer(token))).json() == {"id": "user:alice"}
    response = await client.get("/test/write-calls", headers=bearer(token))
    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"
    assert "'calls:write'" in response.json()["detail"]
    assert response.headers["www-authenticate"] == 'Bearer error="insufficient_scope", scope="calls:write"'


async def test_admin_holds_every_scope(client: httpx.AsyncClient, sessions: SessionFactory) -> None:
    await add_user(sessions, "root", "s3cret-pass", ["admin"])
    token = await login(client, "root", "s3cret-pass")
    assert (await client.get("/test/write-calls", headers=bearer(token))).status_code == 200


async def test_a_disabled_users_tokens_stop_working(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    await add_user(sessions, "alice", "s3cret-pass", ["calls:read"])
    token = await login(client, "alice", "s3cret-pass")
    assert (await client.get("/test/read-calls", headers=bearer(token))).status_code == 200
    await disable_user(sessions, "alice")
    assert_invalid_token(await client.get("/test/read-calls", headers=bearer(token)), "disabled_user")


async def test_a_password_change_revokes_earlier_tokens_only(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    await add_user(sessions, "alice", "s3cret-pass", ["calls:read"])
    old = await login(client, "alice", "s3cret-pass")
    await change_password(sessions, "alice", "n3w-pass")
    assert_invalid_token(await client.get("/test/read-calls", headers=bearer(old)), "revoked")
    assert (
        await client.post("/api/v1/token", data={"username": "alice", "password": "s3cret-pass"})
    ).status_code == 401
    new = await login(client, "alice", "n3w-pass")  # issued within the same second as the change
    assert (await client.get("/test/read-calls", headers=bearer(new))).status_code == 200


async def test_scopes_are_those_the_user_still_holds(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    await add_user(sessions, "alice", "s3cret-pass", ["calls:read", "calls:write"])
    token = await login(client, "alice", "s3cret-pass")
    async with transaction(sessions) as session:
        await session.execute(text("UPDATE users SET scopes = '{calls:read}' WHERE name = 'alice'"))
    assert (await client.get("/test/anyone", headers=bearer(token))).json()["scopes"] == ["calls:read"]
    assert (await client.get("/test/write-calls", headers=bearer(token))).status_code == 403


async def test_a_token_and_an_api_key_together_are_refused(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    await add_user(sessions, "alice", "s3cret-pass", ["calls:read"])
    token = await login(client, "alice", "s3cret-pass")
    response = await client.get("/test/read-calls", headers=bearer(token) | {"X-API-Key": "dpk_x_y"})
    assert_invalid_token(response, "ambiguous_credentials")


async def test_over_the_rate_limit_is_429_with_retry_after(
    client: httpx.AsyncClient, sessions: SessionFactory, clock: FakeClock
) -> None:
    await add_user(sessions, "alice", "s3cret-pass", ["calls:read"])
    await add_user(sessions, "bob", "s3cret-pass", ["calls:read"])
    alice, bob = (
        bearer(await login(client, "alice", "s3cret-pass")),
        bearer(await login(client, "bob", "s3cret-pass")),
    )
    for _ in range(3):  # user_rate_limit_per_minute=3
        assert (await client.get("/test/read-calls", headers=alice)).status_code == 200
    refused = await client.get("/api/v1/me", headers=alice)
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "20"
    assert refused.json()["code"] == "rate_limited"
    assert (await client.get("/test/read-calls", headers=bob)).status_code == 200  # one bucket per principal
    clock.advance(19)
    assert (await client.get("/test/read-calls", headers=alice)).headers["retry-after"] == "1"
    clock.advance(1)
    assert (await client.get("/test/read-calls", headers=alice)).status_code == 200
    assert (
        await client.get("/test/anyone", headers=alice)
    ).status_code == 200  # authenticate alone: no limit
