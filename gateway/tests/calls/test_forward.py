"""The gateway declares the dialer's public call routes and forwards them: the principal travels signed,
the dialer's answer comes back unchanged, and a dialer that cannot be reached is a 503, not a hang."""

from __future__ import annotations

import json

import httpx

from dialplane.api.routes import CALL_ROUTES
from dialplane.db import SessionFactory
from dialplane.internal_auth import PRINCIPAL_HEADER, verify_principal
from dialplane.testing.database import TEST_INTERNAL_TOKEN
from gateway.main import create_app
from gateway.testing import add_user, bearer, gateway_client, gateway_settings, login

PASSWORD = "correct horse battery"


def test_every_public_call_route_of_the_dialer_is_declared_by_the_gateway(database_url: str) -> None:
    paths = create_app(gateway_settings(database_url)).openapi()["paths"]
    declared = {path.replace("{call_id}", "{id}"): operations for path, operations in paths.items()}
    for spec in CALL_ROUTES:
        operation = declared[spec.path.replace("{call_id}", "{id}")][spec.method.lower()]
        assert str(spec.status_code) in operation["responses"], spec.name


async def test_a_request_is_forwarded_with_the_signed_principal_and_its_answer_returned(
    database_url: str, sessions: SessionFactory
) -> None:
    seen: list[httpx.Request] = []

    def dialer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, json={"id": "x"}, headers={"Location": "/api/v1/calls/x"})

    await add_user(sessions, "alice", PASSWORD, ["calls:write"])
    settings = gateway_settings(database_url)
    async with gateway_client(settings, dialer_transport=httpx.MockTransport(dialer)) as client:
        token = await login(client, "alice", PASSWORD)
        answer = await client.post(
            "/api/v1/calls?x=1",
            headers={**bearer(token), "Idempotency-Key": "k1", "X-Request-ID": "req-1"},
            json={"to": "+12025550100"},
        )
    assert answer.status_code == 201 and answer.headers["location"] == "/api/v1/calls/x"
    (request,) = seen
    assert (request.method, request.url.path, request.url.query) == ("POST", "/api/v1/calls", b"x=1")
    assert json.loads(request.content) == {"to": "+12025550100"}
    assert request.headers["idempotency-key"] == "k1" and request.headers["x-request-id"] == "req-1"
    principal = verify_principal(request.headers[PRINCIPAL_HEADER], TEST_INTERNAL_TOKEN)
    assert (principal.id, principal.scopes) == ("user:alice", frozenset({"calls:write"}))
    assert "authorization" not in request.headers  # the client's token stays at the gateway


async def test_an_unreachable_dialer_is_a_503_with_retry_after(
    database_url: str, sessions: SessionFactory
) -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    await add_user(sessions, "alice", PASSWORD, ["calls:read"])
    async with gateway_client(
        gateway_settings(database_url), dialer_transport=httpx.MockTransport(down)
    ) as client:
        token = await login(client, "alice", PASSWORD)
        answer = await client.get("/api/v1/calls", headers=bearer(token))
    assert answer.status_code == 503 and answer.headers["retry-after"] == "2"
    assert answer.json()["code"] == "dialer_unavailable"


async def test_bad_input_is_refused_at_the_edge_without_reaching_the_dialer(
    database_url: str, sessions: SessionFactory
) -> None:
    seen: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda request: seen.append(request) or httpx.Response(500))
    await add_user(sessions, "alice", PASSWORD, ["calls:write", "calls:read"])
    async with gateway_client(gateway_settings(database_url), dialer_transport=transport) as client:
        token = await login(client, "alice", PASSWORD)
        letters = await client.post("/api/v1/calls", headers=bearer(token), json={"to": "+1202555CALL"})
        bad_id = await client.get("/api/v1/calls/not-a-uuid", headers=bearer(token))
    assert letters.status_code == bad_id.status_code == 422
    assert seen == []
