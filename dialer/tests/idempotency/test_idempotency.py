"""Idempotency-Key: a retry replays the first response; another request with the key is refused; concurrent
requests with one key create one call."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from dialer.settings import Settings
from dialer.testing import bridge_commands, dialer_client, principal
from dialplane.db import SessionFactory, transaction

CALLS = "/api/v1/calls"
BODY = {"to": "+12025550100", "metadata": {"order": 1}}


async def post(client: httpx.AsyncClient, key: str, body: dict[str, Any] = BODY) -> httpx.Response:
    return await client.post(CALLS, json=body, headers={"Idempotency-Key": key})


async def count_calls(sessions: SessionFactory) -> int:
    async with transaction(sessions) as session:
        return int(await session.scalar(text("SELECT count(*) FROM calls")) or 0)


async def test_the_same_key_and_body_replays_the_first_response(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    first = await post(client, "order-1")
    reordered = {"metadata": {"order": 1}, "machine_detection": False, "to": "+1 202 555 0100"}
    again = await post(client, "order-1", reordered)

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["idempotent-replayed"] == "true" and "idempotent-replayed" not in first.headers
    assert await count_calls(sessions) == 1
    assert len(await bridge_commands(sessions, first.json()["id"])) == 1


async def test_the_same_key_with_another_body_is_refused(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    await post(client, "order-2")
    other = await post(client, "order-2", {**BODY, "to": "+12025550101"})

    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert other.json()["errors"][0]["field"] == "Idempotency-Key"
    assert await count_calls(sessions) == 1


async def test_the_key_is_per_route(client: httpx.AsyncClient, sessions: SessionFactory) -> None:
    await post(client, "shared")
    legacy = await client.post("/api/v1/interaction/12025550100", headers={"Idempotency-Key": "shared"})
    assert legacy.status_code == 422 and legacy.json()["code"] == "idempotency_key_reused"


async def test_keys_are_per_principal(settings: Settings, sessions: SessionFactory) -> None:
    async with dialer_client(settings, who=principal(principal_id="api_key:one")) as one:
        first = await post(one, "same-key")
    async with dialer_client(settings, who=principal(principal_id="api_key:two")) as two:
        second = await post(two, "same-key")
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]


async def test_concurrent_requests_with_one_key_create_one_call(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    responses = await asyncio.gather(*(post(client, "burst") for _ in range(8)))

    assert {response.status_code for response in responses} == {201}
    assert len({response.json()["id"] for response in responses}) == 1
    assert await count_calls(sessions) == 1
    assert len(await bridge_commands(sessions, responses[0].json()["id"])) == 1


async def test_a_refusal_is_replayed_too(client: httpx.AsyncClient, sessions: SessionFactory) -> None:
    body = {"to": "+18005550123"}  # toll-free: every NANP zone counts, so never inside calling hours
    first = await post(client, "refused", body)
    again = await post(client, "refused", body)
    assert first.status_code == again.status_code == 422
    assert again.json() == first.json() and first.json()["code"] == "call_refused"
    assert await count_calls(sessions) == 1


async def test_a_request_that_failed_validation_does_not_use_up_the_key(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    invalid = await post(client, "retry-me", {"to": "+15555550100"})
    valid = await post(client, "retry-me")
    assert invalid.status_code == 422 and valid.status_code == 201


@pytest.mark.parametrize("key", [b"", b"k" * 256, b"caf\xe9", b"a\x01b"])
async def test_bad_keys_are_422(client: httpx.AsyncClient, key: bytes) -> None:
    response = await client.post(CALLS, json=BODY, headers={"Idempotency-Key": key})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "header.Idempotency-Key"
