"""Password guessing: failed logins for a user name are limited (``login_failures_per_minute``), whether the
guesses come one after another or all at once, and whether the name exists or not."""

from __future__ import annotations

import asyncio

import httpx

from dialplane.db import SessionFactory
from gateway.settings import Settings
from gateway.testing import FakeClock, add_user, gateway_client

TOKEN = "/api/v1/token"
PASSWORD = "s3cret-pass"
LIMIT = 3


def limited(settings: Settings) -> Settings:
    return settings.model_copy(update={"login_failures_per_minute": LIMIT})


async def guess(client: httpx.AsyncClient, name: str, password: str) -> int:
    return (await client.post(TOKEN, data={"username": name, "password": password})).status_code


async def test_guesses_sent_at_once_are_not_all_checked(
    settings: Settings, sessions: SessionFactory, clock: FakeClock
) -> None:
    await add_user(sessions, "alice", PASSWORD)
    wrong = [f"guess-{n}" for n in range(12)]
    async with gateway_client(limited(settings), clock=clock) as client:
        statuses = await asyncio.gather(
            *(guess(client, "alice", password) for password in [*wrong, PASSWORD])
        )
    assert statuses.count(401) <= LIMIT, statuses  # each 401 is a password actually tried
    assert statuses.count(429) >= len(statuses) - LIMIT - 1


async def test_the_lockout_holds_against_the_right_password_until_it_ends(
    settings: Settings, sessions: SessionFactory, clock: FakeClock
) -> None:
    await add_user(sessions, "alice", PASSWORD)
    async with gateway_client(limited(settings), clock=clock) as client:
        assert [await guess(client, "alice", "nope") for _ in range(LIMIT)] == [401] * LIMIT
        assert await guess(client, "alice", PASSWORD) == 429
        clock.advance(60 / LIMIT)  # one failure's worth has refilled
        assert await guess(client, "alice", PASSWORD) == 200


async def test_successful_logins_do_not_count_as_failures(
    settings: Settings, sessions: SessionFactory, clock: FakeClock
) -> None:
    await add_user(sessions, "alice", PASSWORD)
    async with gateway_client(limited(settings), clock=clock) as client:
        assert [await guess(client, "alice", PASSWORD) for _ in range(LIMIT + 2)] == [200] * (LIMIT + 2)
        assert [await guess(client, "alice", "nope") for _ in range(LIMIT)] == [401] * LIMIT


async def test_an_unknown_name_is_locked_out_like_a_known_one(
    settings: Settings, sessions: SessionFactory, clock: FakeClock
) -> None:
    await add_user(sessions, "alice", PASSWORD)
    async with gateway_client(limited(settings), clock=clock) as client:
        known = [await guess(client, "alice", "nope") for _ in range(LIMIT + 1)]
        unknown = [await guess(client, "mallory", "nope") for _ in range(LIMIT + 1)]
    assert known == unknown == [401] * LIMIT + [429]  # the lockout does not tell which names exist
