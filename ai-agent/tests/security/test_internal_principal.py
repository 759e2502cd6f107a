"""The ai-agent serves only requests that came through the gateway: every route of the service (found in the
application, not listed by hand) depends on the signed principal, and a request without one, or with one the
gateway did not sign for the internal services as they are now, is a 401 problem+json — never served, never
a 500. (``tests/test_api.py`` checks scopes per route; this adds every forgery and the enumeration.)"""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from ai_agent.main import create_app
from ai_agent.settings import Settings
from ai_agent.testing import agent_app, agent_settings, api_app
from dialplane.db import SessionFactory
from dialplane.errors import PROBLEM_JSON
from dialplane.internal_auth import (
    PRINCIPAL_HEADER,
    sign_principal,
)
from dialplane.testing.database import TEST_INTERNAL_TOKEN
from dialplane.testing.principals import ADMIN, api_routes, bad_principals


@pytest.fixture
def settings(database_url: str) -> Settings:
    return agent_settings(database_url)


def route_names(app: FastAPI) -> set[str]:
    return {f"{method} {path.split('/')[3]}" for method, path, _ in api_routes(app)}


def test_every_route_depends_on_the_signed_principal(settings: Settings) -> None:
    routes = list(api_routes(create_app(settings)))
    assert len(routes) > 15  # the enumeration found the API
    assert [f"{method} {path}" for method, path, guarded in routes if not guarded] == []
    assert route_names(api_app(settings)) == route_names(create_app(settings))  # what the next test runs


@pytest.mark.parametrize("presented", ["missing", *bad_principals()])
async def test_every_route_refuses_a_request_the_gateway_did_not_sign(
    settings: Settings, sessions: SessionFactory, presented: str
) -> None:
    headers = {} if presented == "missing" else {PRINCIPAL_HEADER: bad_principals()[presented]}
    served = []
    async with agent_app(settings) as app, client_of(app) as client:
        for method, path, _ in api_routes(app):
            response = await client.request(method, path, json={}, headers=headers)
            problem = response.json() if response.headers["content-type"] == PROBLEM_JSON else {}
            expected = "missing_internal_token" if presented == "missing" else "invalid_internal_token"
            if (response.status_code, problem.get("code")) != (401, expected):
                served.append(f"{method} {path}: {response.status_code} {problem.get('code')}")
    assert served == []


def client_of(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://test")


async def test_a_principal_signed_by_the_gateway_is_served(
    settings: Settings, sessions: SessionFactory
) -> None:
    async with agent_app(settings) as app, client_of(app) as client:
        response = await client.get(
            "/api/v1/agent-profiles", headers={PRINCIPAL_HEADER: sign_principal(ADMIN, TEST_INTERNAL_TOKEN)}
        )
    assert response.status_code == 200, response.text
