"""API keys: an admin creates, lists, disables and rotates them; a partner system calls with ``X-API-Key``."""

from __future__ import annotations

import httpx
from prometheus_client import REGISTRY
from sqlalchemy import text

from dialplane.db import SessionFactory, transaction
from gateway.testing import FakeClock, add_user, bearer, login

KEYS = "/api/v1/api-keys"


async def admin_headers(client: httpx.AsyncClient, sessions: SessionFactory) -> dict[str, str]:
    await add_user(sessions, "root", "s3cret-pass", ["admin"])
    return bearer(await login(client, "root", "s3cret-pass"))


async def create_key(client: httpx.AsyncClient, admin: dict[str, str], **body: object) -> dict[str, object]:
    response = await client.post(KEYS, json={"name": "crm", "scopes": ["calls:read"]} | body, headers=admin)
    assert response.status_code == 201, response.text
    created: dict[str, object] = response.json()
    return created


async def test_a_created_key_is_shown_once_and_authenticates(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    admin = await admin_headers(client, sessions)
    created = await create_key(client, admin, rate_limit_per_minute=30)
    key = str(created["key"])
    assert key.startswith(f"dpk_{created['id']}_")
    assert created["created_by"] == "user:root"
    assert (created["scopes"], created["rate_limit_per_minute"]) == (["calls:read"], 30)
    me = await client.get("/api/v1/me", headers={"X-API-Key": key})
    assert me.status_code == 200, me.text
    assert me.json() == {
        "id": f"api_key:{created['id']}",
        "kind": "api_key",
        "name": "crm",
        "scopes": ["calls:read"],
    }
    async with transaction(sessions) as session:
        stored = (await session.execute(text("SELECT secret_hash, last_used_at FROM api_keys"))).one()
    assert key.split("_", 2)[2] not in stored.secret_hash
    assert stored.last_used_at is not None


async def test_the_list_never_shows_secrets(client: httpx.AsyncClient, sessions: SessionFactory) -> None:
    admin = await admin_headers(client, sessions)
    first, second = await create_key(client, admin, name="crm"), await create_key(client, admin, name="erp")
    listed = await client.get(KEYS, headers=admin)
    assert listed.status_code == 200
    assert [item["name"] for item in listed.json()] == ["crm", "erp"]
    assert all("key" not in item and "secret_hash" not in item for item in listed.json())
    for created in (first, second):
        assert str(created["key"]).split("_", 2)[2] not in listed.text


async def test_a_disabled_key_stops_working(client: httpx.AsyncClient, sessions: SessionFactory) -> None:
    admin = await admin_headers(client, sessions)
    created = await create_key(client, admin)
    disabled = await client.post(f"{KEYS}/{created['id']}/disable", headers=admin)
    assert (disabled.status_code, disabled.json()["disabled"]) == (200, True)
    refused = await client.get("/api/v1/me", headers={"X-API-Key": str(created["key"])})
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == "Bearer"
    assert refused.json()["reason"] == "api_key_disabled"
    rotate = await client.post(f"{KEYS}/{created['id']}/rotate", headers=admin)
    assert (rotate.status_code, rotate.json()["code"]) == (409, "api_key_disabled")


async def test_rotation_replaces_the_secret_and_keeps_the_id(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    admin = await admin_headers(client, sessions)
    created = await create_key(client, admin)
    rotated = await client.post(f"{KEYS}/{created['id']}/rotate", headers=admin)
    assert rotated.status_code == 200, rotated.text
    new_key = rotated.json()["key"]
    assert (rotated.json()["id"], rotated.json()["rotated_at"] is not None) == (created["id"], True)
    assert new_key != created["key"]
    old = await client.get("/api/v1/me", headers={"X-API-Key": str(created["key"])})
    assert (old.status_code, old.json()["reason"]) == (401, "invalid_api_key")
    new = await client.get("/api/v1/me", headers={"X-API-Key": new_key})
    assert new.json()["id"] == f"api_key:{created['id']}"


async def test_unknown_or_malformed_keys_are_refused(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    admin = await admin_headers(client, sessions)
    real = str((await create_key(client, admin))["key"])
    wrong_secret = real[:-4] + ("AAAA" if not real.endswith("AAAA") else "BBBB")
    unknown_id = "dpk_0000000000000000_" + real.split("_", 2)[2]
    for key, reason in (
        (wrong_secret, "invalid_api_key"),
        (unknown_id, "invalid_api_key"),
        ("hello", "malformed_api_key"),
    ):
        response = await client.get("/api/v1/me", headers={"X-API-Key": key})
        assert (response.status_code, response.json()["reason"]) == (401, reason), key


async def test_managing_keys_needs_admin(client: httpx.AsyncClient, sessions: SessionFactory) -> None:
    admin = await admin_headers(client, sessions)
    key = str((await create_key(client, admin, scopes=["calls:read", "calls:write"]))["key"])
    await add_user(sessions, "alice", "s3cret-pass", ["calls:read", "calls:write"])
    for headers in (bearer(await login(client, "alice", "s3cret-pass")), {"X-API-Key": key}):
        response = await client.post(KEYS, json={"name": "x", "scopes": ["calls:read"]}, headers=headers)
        assert (response.status_code, response.json()["required_scope"]) == (403, "admin")
        assert (await client.get(KEYS, headers=headers)).status_code == 403
    assert (await client.get(KEYS)).status_code == 401


async def test_bad_requests_are_refused(client: httpx.AsyncClient, sessions: SessionFactory) -> None:
    admin = await admin_headers(client, sessions)
    unknown_scope = await client.post(
        KEYS, json={"name": "crm", "scopes": ["calls:read", "root"]}, headers=admin
    )
    assert (unknown_scope.status_code, unknown_scope.json()["code"]) == (422, "unknown_scope")
    no_scopes = await client.post(KEYS, json={"name": "crm", "scopes": []}, headers=admin)
    assert no_scopes.status_code == 422
    zero_limit = await client.post(
        KEYS, json={"name": "crm", "scopes": ["admin"], "rate_limit_per_minute": 0}, headers=admin
    )
    assert zero_limit.status_code == 422
    for action in ("disable", "rotate"):
        missing = await client.post(f"{KEYS}/0000000000000000/{action}", headers=admin)
        assert (missing.status_code, missing.json()["code"]) == (404, "no_such_api_key")


async def test_a_key_has_its_own_rate_limit(
    client: httpx.AsyncClient, sessions: SessionFactory, clock: FakeClock
) -> None:
    admin = await admin_headers(client, sessions)
    headers = {"X-API-Key": str((await create_key(client, admin, rate_limit_per_minute=2))["key"])}
    before = REGISTRY.get_sample_value("dialplane_gateway_rate_limited_total", {"kind": "api_key"}) or 0.0
    assert [(await client.get("/api/v1/me", headers=headers)).status_code for _ in range(3)] == [
        200,
        200,
        429,
    ]
    refused = await client.get("/api/v1/me", headers=headers)
    assert refused.headers["retry-after"] == "30"
    assert (
        REGISTRY.get_sample_value("dialplane_gateway_rate_limited_total", {"kind": "api_key"}) == before + 2
    )
    clock.advance(30)
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 200
