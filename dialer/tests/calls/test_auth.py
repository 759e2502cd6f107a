"""Every calls route needs the principal the gateway signs: none or a bad one → 401, a missing scope → 403."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from dialer.settings import Settings
from dialer.testing import dialer_client, principal, principal_token
from dialplane.db import SessionFactory
from dialplane.internal_auth import PRINCIPAL_HEADER, sign_principal

SOME_ID = uuid.uuid4()
ROUTES = [
    ("POST", "/api/v1/calls", "calls:write"),
    ("GET", "/api/v1/calls", "calls:read"),
    ("GET", f"/api/v1/calls/{SOME_ID}", "calls:read"),
    ("POST", f"/api/v1/calls/{SOME_ID}/hangup", "calls:write"),
    ("GET", f"/api/v1/calls/{SOME_ID}/events", "calls:read"),
    ("POST", "/api/v1/interaction/12025550100", "calls:write"),
    ("GET", f"/api/v1/status/{SOME_ID}", "calls:read"),
]
BODY = {"to": "+12025550100"}


def _bad_tokens() -> dict[str, str]:
    return {
        "garbage": "not-a-token",
        "wrong secret": sign_principal(principal(), "another-secret-entirely"),
        "expired": sign_principal(principal(), "internal-token-for-tests-only", now=time.time() - 3600),
    }


@pytest.mark.parametrize(("method", "path", "scope"), ROUTES)
async def test_without_a_valid_principal_every_route_is_401(
    settings: Settings, sessions: SessionFactory, method: str, path: str, scope: str
) -> None:
    async with dialer_client(settings) as client:
        client.auth = None
        missing = await client.request(method, path, json=BODY)
        bad = [
            await client.request(method, path, json=BODY, headers={PRINCIPAL_HEADER: token})
            for token in _bad_tokens().values()
        ]
    assert missing.status_code == 401 and missing.json()["code"] == "missing_internal_token"
    assert [response.status_code for response in bad] == [401, 401, 401]
    assert all(r.headers["content-type"] == "application/problem+json" for r in [missing, *bad])


@pytest.mark.parametrize(("method", "path", "scope"), ROUTES)
async def test_a_principal_without_the_scope_is_403(
    settings: Settings, sessions: SessionFactory, method: str, path: str, scope: str
) -> None:
    other = "calls:read" if scope == "calls:write" else "calls:write"
    async with dialer_client(settings, who=principal({other, "leads:read"})) as client:
        response = await client.request(method, path, json=BODY)
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "insufficient_scope"


async def test_the_scope_or_admin_is_enough(settings: Settings, sessions: SessionFactory) -> None:
    async with dialer_client(settings, who=principal({"calls:read"})) as reader:
        listed = await reader.get("/api/v1/calls")
    async with dialer_client(settings, who=principal({"admin"})) as admin:
        created = await admin.post("/api/v1/calls", json=BODY)
    assert listed.status_code == 200
    assert created.status_code == 201, created.text


async def test_a_token_signed_for_the_request_is_accepted(
    settings: Settings, sessions: SessionFactory
) -> None:
    async with dialer_client(settings) as client:
        client.auth = None
        response = await client.get("/api/v1/calls", headers={PRINCIPAL_HEADER: principal_token()})
    assert isinstance(response, httpx.Response) and response.status_code == 200
