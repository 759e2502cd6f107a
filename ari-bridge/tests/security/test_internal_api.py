"""The bridge's API answers only requests signed as the gateway signs them, like the other internal services:
a call's record (its number, its live channel) needs a principal with ``calls:read``; without one, or with a
forged, expired or foreign one, the answer is a 401 problem+json. ``/nodes`` stays open with the probes: it
says what ``/ready`` and ``/metrics`` say already (connection, load, limits) and nothing about any call.

No Asterisk is involved: the node points at a port where nothing listens (the bridge keeps retrying)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from fastapi.dependencies.models import Dependant
from fastapi.routing import iter_route_contexts
from jose import jwt
from pydantic import SecretStr

from ari_bridge.main import create_app
from ari_bridge.settings import NodeConfig, Settings
from dialplane.db import SessionFactory
from dialplane.errors import PROBLEM_JSON
from dialplane.internal_auth import PRINCIPAL_HEADER, Principal, internal_principal, sign_principal
from dialplane.testing.database import TEST_INTERNAL_TOKEN
from dialplane.testing.http import app_client, free_port, service_settings

OPEN = {"/health", "/ready", "/metrics", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/nodes"}
CALL = "/calls/7d4c5e0e-0000-4000-8000-000000000001"


def someone(*scopes: str) -> Principal:
    return Principal(id="user:alice", kind="user", name="alice", scopes=frozenset(scopes))


def depends_on_principal(dependant: Dependant) -> bool:
    return dependant.call is internal_principal or any(map(depends_on_principal, dependant.dependencies))


@pytest.fixture
def settings(database_url: str) -> Settings:
    node = NodeConfig(
        ari_url=f"http://127.0.0.1:{free_port()}/ari", password=SecretStr("not-a-placeholder"), app="security"
    )
    return service_settings(Settings, database_url, nodes=[node])


@pytest_asyncio.fixture
async def client(settings: Settings, sessions: SessionFactory) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(create_app(settings)) as running:
        yield running


def test_every_route_but_the_probes_and_nodes_depends_on_the_signed_principal(settings: Settings) -> None:
    routes = {context.path: context for context in iter_route_contexts(create_app(settings).routes)}
    assert "/calls/{call_id}" in routes
    unguarded = [
        path for path, c in routes.items() if path not in OPEN and not depends_on_principal(c.dependant)
    ]
    assert unguarded == []


def bad_principals() -> dict[str, str]:
    admin = someone("admin")
    now = int(time.time())
    foreign = {"sub": admin.id, "kind": "user", "scope": "admin", "iat": now, "exp": now + 60}
    return {
        "garbage": "not-a-token",
        "another secret": sign_principal(admin, "another-internal-token-entirely"),
        "expired": sign_principal(admin, TEST_INTERNAL_TOKEN, now=time.time() - 3600),
        "no audience or issuer": jwt.encode(foreign, TEST_INTERNAL_TOKEN),
        "alg none": "eyJhbGciOiJub25lIn0." + jwt.encode(foreign, "x").split(".")[1] + ".",
    }


@pytest.mark.parametrize("presented", ["missing", *bad_principals()])
async def test_a_call_is_not_shown_without_a_principal_signed_by_the_gateway(
    client: httpx.AsyncClient, presented: str
) -> None:
    headers = {} if presented == "missing" else {PRINCIPAL_HEADER: bad_principals()[presented]}
    response = await client.get(CALL, headers=headers)
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == PROBLEM_JSON


async def test_a_call_needs_calls_read(client: httpx.AsyncClient) -> None:
    def signed(who: Principal) -> dict[str, str]:
        return {PRINCIPAL_HEADER: sign_principal(who, TEST_INTERNAL_TOKEN)}

    refused = await client.get(CALL, headers=signed(someone("calls:write", "leads:read")))
    assert (refused.status_code, refused.json()["code"]) == (403, "insufficient_scope")
    for who in (someone("calls:read"), someone("admin")):
        answer = await client.get(CALL, headers=signed(who))
        assert (answer.status_code, answer.json()["code"]) == (404, "not_found")  # served: no such call


async def test_nodes_stay_open_like_the_probes(client: httpx.AsyncClient) -> None:
    nodes = await client.get("/nodes")
    assert nodes.status_code == 200
    assert set(nodes.json()[0]) >= {"name", "connected", "last_error"}
