"""Passwords and API keys are stored only as hashes: after users and keys are created, changed and rotated
through the real paths, no table of the database holds a password, a key or its secret in any common
encoding, and the password hashes are bcrypt with a cost worth its name."""

from __future__ import annotations

import base64
import hashlib

import httpx
from sqlalchemy import text

from dialplane.db import SessionFactory, transaction
from gateway.auth.passwords import verify_password
from gateway.testing import add_user, bearer, change_password, login
from gateway.users import service as users

KEYS = "/api/v1/api-keys"
MIN_BCRYPT_COST = 10
PASSWORDS = ("first-Pa55word-of-alice", "second-Pa55word-of-alice", "the-Pa55word-of-root")


def encodings(secret: str) -> set[str]:
    """``secret`` as it might be written by mistake: plain, base64, hex, or a fast unsalted hash."""
    raw = secret.encode()
    return {
        secret,
        base64.b64encode(raw).decode().rstrip("="),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
        raw.hex(),
        hashlib.md5(raw).hexdigest(),
        hashlib.sha1(raw).hexdigest(),
    }


async def database_text(sessions: SessionFactory) -> dict[str, str]:
    """Every row of every table of the public schema, as text, by table name."""
    async with transaction(sessions) as session:
        tables = (
            await session.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
        ).scalars()
        return {
            table: "\n".join((await session.execute(text(f'SELECT t::text FROM "{table}" t'))).scalars())
            for table in list(tables)
        }


def leaks(dump: dict[str, str], secrets: list[str]) -> list[str]:
    lowered = {table: rows.lower() for table, rows in dump.items()}
    return [
        f"{table} holds a form of {secret[:6]}…"
        for secret in secrets
        for form in encodings(secret)
        for table, rows in lowered.items()
        if form.lower() in rows
    ]


async def test_no_table_holds_a_password_or_an_api_key(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    first, second, root_password = PASSWORDS
    await add_user(sessions, "alice", first, ["calls:read"])
    await change_password(sessions, "alice", second)
    await add_user(sessions, "root", root_password, ["admin"])
    admin = bearer(await login(client, "root", root_password))
    created = await client.post(KEYS, json={"name": "crm", "scopes": ["calls:read"]}, headers=admin)
    assert created.status_code == 201 and created.headers["cache-control"] == "no-store"
    rotated = await client.post(f"{KEYS}/{created.json()['id']}/rotate", headers=admin)
    assert rotated.status_code == 200 and rotated.headers["cache-control"] == "no-store"
    other = await client.post(KEYS, json={"name": "erp", "scopes": ["admin"]}, headers=admin)
    keys = [response.json()["key"] for response in (created, rotated, other)]
    assert (await client.get("/api/v1/me", headers={"X-API-Key": keys[1]})).status_code == 200

    dump = await database_text(sessions)
    assert dump["users"] and dump["api_keys"]  # the rows are there, and were searched
    key_secrets = [key.split("_", 2)[2] for key in keys]
    assert leaks(dump, [*PASSWORDS, *keys, *key_secrets]) == []


async def test_passwords_are_salted_bcrypt_hashes_of_a_real_cost(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:  # as the service (and its CLI) stores them
        await users.create_user(session, "alice", PASSWORDS[0])
        await users.create_user(session, "bob", PASSWORDS[0])
    async with transaction(sessions) as session:
        rows = (await session.execute(text("SELECT name, password_hash FROM users"))).all()
    hashes = {row.name: row.password_hash for row in rows}
    assert hashes["alice"] != hashes["bob"]  # salted: the same password, different hashes
    for stored in hashes.values():
        algorithm, cost = stored.split("$")[1:3]
        assert algorithm in ("2a", "2b", "2y") and int(cost) >= MIN_BCRYPT_COST, stored[:7]
        assert verify_password(PASSWORDS[0], stored)
