"""Nothing logs a password, an access token, an API key or a hash, even when logging everything."""

from __future__ import annotations

import httpx

from dialplane.db import SessionFactory, transaction
from dialplane.testing.logs import captured_logs
from gateway.testing import add_user, bearer, login
from gateway.users import repository

PASSWORD = "Tr0ub4dor-and-3"


async def test_secrets_are_absent_from_the_logs(client: httpx.AsyncClient, sessions: SessionFactory) -> None:
    await add_user(sessions, "root", PASSWORD, ["admin"])
    async with transaction(sessions) as session:
        user = await repository.get_by_name(session, "root")
    assert user is not None
    with captured_logs() as logs:
        token = await login(client, "root", PASSWORD)
        await client.post("/api/v1/token", data={"username": "root", "password": PASSWORD + "-wrong"})
        await client.post("/api/v1/token", data={"username": "nobody", "password": PASSWORD})
        created = (
            await client.post(
                "/api/v1/api-keys", json={"name": "crm", "scopes": ["admin"]}, headers=bearer(token)
            )
        ).json()
        key = created["key"]
        assert (await client.get("/api/v1/me", headers={"X-API-Key": key})).status_code == 200
        rotated = (
            await client.post(f"/api/v1/api-keys/{created['id']}/rotate", headers={"X-API-Key": key})
        ).json()
        await client.get("/api/v1/me", headers={"X-API-Key": key})  # the old key, refused
        await client.get("/api/v1/me", headers=bearer(token + "x"))  # a tampered token, refused
    text = logs.getvalue()
    for event in ("login", "login_refused", "api_key_created", "api_key_rotated", "authentication_refused"):
        assert f" {event} " in text  # the logs were captured
    secrets = {
        "password": PASSWORD,
        "token": token,
        "token signature": token.rsplit(".", 1)[1],
        "api key": key,
        "api key secret": key.split("_", 2)[2],
        "rotated key": rotated["key"].split("_", 2)[2],
        "password hash": user.password_hash,
        "hash salt": user.password_hash[7:29],
    }
    for what, secret in secrets.items():
        assert secret not in text, f"the {what} is in the logs"
