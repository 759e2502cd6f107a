"""Scope escalation across the whole public API: every route of the gateway, as the application declares it,
is tried with no scopes, with every scope but the one it needs, with exactly that scope and with ``admin``.

The scope a route needs is read from its dependencies (the ``requires(scope)`` it declares), never copied
here; a route that declares none must be one of the few public or any-principal routes listed below, so a
route that loses its scope check fails this test. The dialer and the ai-agent are stubs that count what
reaches them: a refused request must never be forwarded.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from jose import jwt
from pydantic import SecretStr

from dialplane.db import SessionFactory, transaction
from dialplane.internal_auth import PRINCIPAL_HEADER, SCOPES
from dialplane.testing.http import app_client, serving
from gateway.api_keys import service as api_keys
from gateway.auth.dependencies import requires
from gateway.auth.scopes import ADMIN
from gateway.main import create_app
from gateway.settings import Settings
from gateway.testing import FakeClock, bearer, craft_token, gateway_settings

PUBLIC = {("GET", "/health"), ("GET", "/ready"), ("POST", "/api/v1/token")}  # no credentials at all
ANY_PRINCIPAL = {("GET", "/api/v1/me")}  # credentials, but no particular scope
UNDOCUMENTED = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/metrics"}  # plain Starlette routes
PATH_VALUES = {"number": "12025550100"}  # every other path parameter gets a UUID
_REQUIRES_CODE = requires(ADMIN).dependency.__code__


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    scopes: frozenset[str]

    def url(self) -> str:
        values = {name: PATH_VALUES.get(name, str(uuid.uuid4())) for name in _parameters(self.path)}
        return self.path.format(**values)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _parameters(path: str) -> list[str]:
    return [part[1:-1].split(":")[0] for part in path.split("/") if part.startswith("{")]


def required_scopes(dependant: Dependant) -> frozenset[str]:
    """The scopes named by every ``requires(scope)`` in the dependency tree."""
    found: set[str] = set()
    call = dependant.call
    if call is not None and getattr(call, "__code__", None) is _REQUIRES_CODE:
        found.add(inspect.getclosurevars(call).nonlocals["scope"])
    for sub in dependant.dependencies:
        found |= required_scopes(sub)
    return frozenset(found)


def endpoints(app: FastAPI) -> Iterator[Endpoint]:
    """Every (method, path) the application serves, with the scopes its declaration requires."""
    for context in iter_route_contexts(app.routes):
        if not isinstance(context.original_route, APIRoute):
            assert context.path in UNDOCUMENTED, f"an unexpected non-API route: {context.path}"
            continue
        for method in sorted(context.methods or ()):
            yield Endpoint(method, str(context.path), required_scopes(context.dependant))


def declared_endpoints() -> list[Endpoint]:
    app = create_app(Settings(jwt_secret="x" * 40))
    return [e for e in endpoints(app) if (e.method, e.path) not in PUBLIC | ANY_PRINCIPAL]


@dataclass
class Downstream:
    """The dialer and the ai-agent: answer 200 ``{}`` to anything and count what they receive."""

    received: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.received.append(request)
        return httpx.Response(200, json={})


@dataclass
class Gateway:
    client: httpx.AsyncClient
    downstream: Downstream
    sessions: SessionFactory
    settings: Settings

    async def key_with(self, scopes: frozenset[str]) -> dict[str, str]:
        async with transaction(self.sessions) as session:
            issued = await api_keys.create_api_key(session, "table", sorted(scopes), 100_000, "test")
        return {"X-API-Key": issued.key}

    async def status(self, endpoint: Endpoint, headers: dict[str, str]) -> tuple[int, dict[str, object]]:
        """The status of the request (and its problem body when refused); the body of a stream is not
        waited for."""
        body: dict[str, object] | None = {} if endpoint.method in ("POST", "PUT", "PATCH") else None
        request = self.client.build_request(endpoint.method, endpoint.url(), json=body, headers=headers)
        response = await self.client.send(request, stream=True)
        try:
            if response.status_code in (401, 403):
                await response.aread()
                return response.status_code, response.json()
            return response.status_code, {}
        finally:
            await response.aclose()


@asynccontextmanager
async def running_gateway(
    database_url: str, sessions: SessionFactory, *, served: bool
) -> AsyncIterator[Gateway]:
    """The gateway with stubbed internal services: over HTTP when ``served`` (streamed answers such as the
    live events need it), else in-process (faster)."""
    settings = gateway_settings(database_url, user_rate_limit_per_minute=100_000)
    downstream = Downstream()
    transport = httpx.MockTransport(downstream)
    app = create_app(settings, clock=FakeClock(), dialer_transport=transport, ai_agent_transport=transport)
    if not served:
        async with app_client(app) as client:
            yield Gateway(client, downstream, sessions, settings)
        return
    async with serving(app) as base_url, httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        yield Gateway(client, downstream, sessions, settings)


@pytest_asyncio.fixture
async def gateway(database_url: str, sessions: SessionFactory) -> AsyncIterator[Gateway]:
    async with running_gateway(database_url, sessions, served=True) as running:
        yield running


@pytest_asyncio.fixture
async def gateway_in_process(database_url: str, sessions: SessionFactory) -> AsyncIterator[Gateway]:
    async with running_gateway(database_url, sessions, served=False) as running:
        yield running


def test_every_route_but_the_public_ones_declares_the_scope_it_needs() -> None:
    declared = declared_endpoints()
    assert len(declared) > 50  # the enumeration found the API, not an empty router
    unscoped = [str(e) for e in declared if not e.scopes]
    assert unscoped == [], "routes without a requires(scope): add one, or list them as public on purpose"
    assert all(e.scopes <= set(SCOPES) for e in declared)


def test_the_route_enumeration_sees_a_route_that_lost_its_scope() -> None:
    app = create_app(Settings(jwt_secret="x" * 40))

    @app.get("/api/v1/forgotten")
    async def forgotten() -> dict[str, str]:
        return {}

    found = {str(e): e.scopes for e in endpoints(app)}
    assert found["GET /api/v1/forgotten"] == frozenset()
    assert found["POST /api/v1/calls"] == frozenset({"calls:write"})


async def test_each_route_is_refused_without_its_scope_and_served_with_it(gateway: Gateway) -> None:
    keys: dict[frozenset[str], dict[str, str]] = {}

    async def headers(scopes: frozenset[str]) -> dict[str, str]:
        if scopes not in keys:
            keys[scopes] = await gateway.key_with(scopes)
        return keys[scopes]

    problems: list[str] = []
    for endpoint in declared_endpoints():
        everything_else = frozenset(SCOPES) - endpoint.scopes - {ADMIN}
        for label, scopes in (("no scope", frozenset()), ("every other scope", everything_else)):
            forwarded = len(gateway.downstream.received)
            status, body = await gateway.status(endpoint, await headers(scopes))
            if status != 403 or body.get("code") != "insufficient_scope":
                problems.append(f"{endpoint} with {label}: {status} {body}")
            if body.get("required_scope") not in endpoint.scopes:
                problems.append(f"{endpoint} with {label}: names {body.get('required_scope')!r}")
            if len(gateway.downstream.received) != forwarded:
                problems.append(f"{endpoint} with {label}: forwarded although refused")
        for label, scopes in (("its scope", endpoint.scopes), ("admin", frozenset({ADMIN}))):
            status, body = await gateway.status(endpoint, await headers(scopes))
            if status in (401, 403):
                problems.append(f"{endpoint} with {label}: {status} {body}")
    assert problems == []


async def test_a_forwarded_request_carries_only_the_callers_scopes(gateway: Gateway) -> None:
    scoped = await gateway.key_with(frozenset({"calls:read"}))
    status, _ = await gateway.status(Endpoint("GET", "/api/v1/calls", frozenset()), scoped)
    assert status == 200
    principal_token = gateway.downstream.received[-1].headers[PRINCIPAL_HEADER]
    assert jwt.get_unverified_claims(principal_token)["scope"] == "calls:read"


def forged_admin_tokens(settings: Settings) -> dict[str, str]:
    """Admin tokens an attacker could make without the gateway's key."""
    unsigned = craft_token(settings, scope=ADMIN).rsplit(".", 1)[0].split(".", 1)[1]
    return {
        "alg none": f"eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{unsigned}.",
        "another key": craft_token(
            settings.model_copy(update={"jwt_secret": SecretStr("y" * 40)}), scope=ADMIN
        ),
        "expired": craft_token(settings, scope=ADMIN, iat=1, nbf=1, exp=2),
    }


@pytest.mark.parametrize("credentials", ["none", "alg none", "another key", "expired", "made-up API key"])
async def test_every_route_refuses_missing_or_forged_credentials(
    gateway_in_process: Gateway, credentials: str
) -> None:
    gateway = gateway_in_process
    made_up_key = {"X-API-Key": f"dpk_{'0' * 16}_{'A' * 43}"}
    tokens = {name: bearer(token) for name, token in forged_admin_tokens(gateway.settings).items()}
    headers = {"none": {}, "made-up API key": made_up_key, **tokens}[credentials]
    accepted = []
    for endpoint in [*declared_endpoints(), Endpoint("GET", "/api/v1/me", frozenset())]:
        status, body = await gateway.status(endpoint, headers)
        if status != 401 or body.get("status") != 401:
            accepted.append(f"{endpoint}: {status}")
    assert accepted == []
    assert gateway.downstream.received == []
