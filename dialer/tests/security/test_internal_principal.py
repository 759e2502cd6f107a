"""The dialer serves only requests that came through the gateway: every route of its API (found in the
application, not listed by hand) depends on the signed principal, and a request without one, or with one the
gateway did not sign for the dialer as it is now, is a 401 problem+json — never served, never a 500."""

from __future__ import annotations

import pytest

from dialer.main import create_app
from dialer.settings import Settings
from dialer.testing import FixedClock, set_clock
from dialplane.db import SessionFactory
from dialplane.errors import PROBLEM_JSON
from dialplane.internal_auth import (
    PRINCIPAL_HEADER,
    sign_principal,
)
from dialplane.testing.database import TEST_INTERNAL_TOKEN
from dialplane.testing.http import app_client
from dialplane.testing.principals import ADMIN, api_routes, bad_principals


def test_every_route_depends_on_the_signed_principal(settings: Settings) -> None:
    routes = list(api_routes(create_app(settings)))
    assert len(routes) > 40  # the enumeration found the API
    assert [f"{method} {path}" for method, path, guarded in routes if not guarded] == []


@pytest.mark.parametrize("presented", ["missing", *bad_principals()])
async def test_every_route_refuses_a_request_the_gateway_did_not_sign(
    settings: Settings, sessions: SessionFactory, presented: str
) -> None:
    headers = {} if presented == "missing" else {PRINCIPAL_HEADER: bad_principals()[presented]}
    app = create_app(settings)
    set_clock(app, FixedClock())
    served = []
    async with app_client(app) as client:
        for method, path, _ in api_routes(app):
            response = await client.request(method, path, json={}, headers=headers)
            problem = response.json() if response.headers["content-type"] == PROBLEM_JSON else {}
            expected = "missing_internal_token" if presented == "missing" else "invalid_internal_token"
            if (response.status_code, problem.get("code")) != (401, expected):
                served.append(f"{method} {path}: {response.status_code} {problem.get('code')}")
    assert served == []


async def test_a_principal_signed_for_the_dialer_is_served(
    settings: Settings, sessions: SessionFactory
) -> None:
    async with app_client(create_app(settings)) as client:
        response = await client.get(
            "/api/v1/calls", headers={PRINCIPAL_HEADER: sign_principal(ADMIN, TEST_INTERNAL_TOKEN)}
        )
    assert response.status_code == 200, response.text
