"""``POST /api/v1/token`` and ``GET /api/v1/me`` against a running gateway and a real database."""

from __future__ import annotations

import time

import httpx
from jose import jwt
from prometheus_client import REGISTRY

from dialplane.db import SessionFactory
from dialplane.errors import PROBLEM_JSON
from gateway.settings import Settings
from gateway.testing import FakeClock, add_user, bearer, disable_user, gateway_client, login

TOKEN = "/api/v1/token"


def failures(reason: str) -> float:
    value = REGISTRY.get_sample_value("dialplane_gateway_auth_failures_total", {"reason": reason})
    return value or 0.0


async def test_a_user_logs_in_and_the_token_says_who_it_is(
    client: httpx.AsyncClient, sessions: SessionFactory, settings: Settings
) -> None:
    await add_user(sessions, "Alice", "s3cret-pass", ["calls:read", "calls:write"])
    response = await client.post(TOKEN, data={"username": "alice", "password": "s3cret-pass"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == settings.access_token_ttl_seconds
    assert body["scope"] == "calls:read calls:write"
    assert response.headers["cache-control"] == "no-store"
    claims = jwt.get_unverified_claims(body["access_token"])
    assert claims["sub"] == "Alice"
    assert claims["exp"] - claims["iat"] == settings.access_token_ttl_seconds
    assert abs(claims["iat"] - time.time()) < 5
    me = await client.get("/api/v1/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200, me.text
    assert me.json() == {
        "id": "user:Alice",
        "kind": "user",
        "name": "Alice",
        "scopes": ["calls:read", "calls:write"],
    }


async def test_a_wrong_password_and_an_unknown_user_get_the_same_401(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    await add_user(sessions, "alice", "s3cret-pass")
    before = failures("invalid_login")
    wrong = await client.post(TOKEN, data={"username": "alice", "password": "nope"})
    unknown = await client.post(TOKEN, data={"username": "mallory", "password": "s3cret-pass"})
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert response.headers["content-type"] == PROBLEM_JSON
        assert response.headers["www-authenticate"] == "Bearer"
    assert wrong.json() == unknown.json() | {"instance": wrong.json()["instance"]}
    assert wrong.json()["detail"] == "invalid username or password"
    assert failures("invalid_login") == before + 2


async def test_the_password_is_checked_for_unknown_users_too(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    await add_user(sessions, "alice", "s3cret-pass")
    started = time.perf_counter()
    await client.post(TOKEN, data={"username": "alice", "password": "nope"})
    known = time.perf_counter() - started
    started = time.perf_counter()
    await client.post(TOKEN, data={"username": "mallory", "password": "nope"})
    unknown = time.perf_counter() - started
    assert unknown > known / 3  # a bcrypt check (~0.2 s) ran, not only a database lookup (~1 ms)


async def test_an_over_long_password_is_just_wrong_and_an_empty_one_is_missing(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    await add_user(sessions, "alice", "s3cret-pass")
    long = await client.post(TOKEN, data={"username": "alice", "password": "s3cret-pass" + "x" * 80})
    assert (long.status_code, long.json()["code"]) == (401, "invalid_login")
    empty = await client.post(TOKEN, data={"username": "alice", "password": ""})
    assert empty.status_code == 422
    assert empty.json()["errors"][0]["field"] == "password"


async def test_a_user_name_with_a_nul_character_is_a_400_naming_the_problem(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    await add_user(sessions, "alice", "s3cret-pass")
    response = await client.post(TOKEN, data={"username": "ali\x00ce", "password": "s3cret-pass"})
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["code"] == "unstorable_text"
    assert "NUL" in response.json()["detail"]
    ok = await client.post(TOKEN, data={"username": "alice", "password": "s3cret-pass"})
    assert ok.status_code == 200


async def test_a_disabled_user_cannot_log_in(client: httpx.AsyncClient, sessions: SessionFactory) -> None:
    await add_user(sessions, "alice", "s3cret-pass")
    await disable_user(sessions, "alice")
    response = await client.post(TOKEN, data={"username": "alice", "password": "s3cret-pass"})
    assert response.status_code == 401
    assert response.json()["code"] == "user_disabled"


async def test_a_token_can_ask_for_fewer_scopes(client: httpx.AsyncClient, sessions: SessionFactory) -> None:
    await add_user(sessions, "alice", "s3cret-pass", ["calls:read", "calls:write"])
    token = await login(client, "alice", "s3cret-pass", scope="calls:read")
    assert jwt.get_unverified_claims(token)["scope"] == "calls:read"
    me = await client.get("/api/v1/me", headers=bearer(token))
    assert me.json()["scopes"] == ["calls:read"]


async def test_an_admin_may_ask_for_any_scope(client: httpx.AsyncClient, sessions: SessionFactory) -> None:
    await add_user(sessions, "root", "s3cret-pass", ["admin"])
    token = await login(client, "root", "s3cret-pass", scope="leads:read")
    me = await client.get("/api/v1/me", headers=bearer(token))
    assert me.json()["scopes"] == ["leads:read"]


async def test_scopes_not_held_or_unknown_are_refused(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    await add_user(sessions, "alice", "s3cret-pass", ["calls:read"])
    for scope, named in (("calls:read calls:write", "calls:write"), ("everything", "everything")):
        response = await client.post(
            TOKEN, data={"username": "alice", "password": "s3cret-pass", "scope": scope}
        )
        assert response.status_code == 400
        assert response.json()["code"] == "invalid_scope"
        assert named in response.json()["detail"]


async def test_repeated_failed_logins_are_rate_limited(
    settings: Settings, sessions: SessionFactory, clock: FakeClock
) -> None:
    await add_user(sessions, "alice", "s3cret-pass")
    limited = settings.model_copy(update={"login_failures_per_minute": 2})
    async with gateway_client(limited, clock=clock) as client:
        for _ in range(2):
            response = await client.post(TOKEN, data={"username": "alice", "password": "guess"})
            assert response.status_code == 401
        blocked = await client.post(TOKEN, data={"username": "ALICE", "password": "s3cret-pass"})
        assert blocked.status_code == 429
        assert blocked.headers["retry-after"] == "30"
        other = await client.post(TOKEN, data={"username": "bob", "password": "guess"})
        assert other.status_code == 401  # the limit is per user name
        clock.advance(30)
        assert (
            await client.post(TOKEN, data={"username": "alice", "password": "s3cret-pass"})
        ).status_code == 200
