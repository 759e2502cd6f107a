"""The gateway declares every leads route of the dialer with the same models, checks the scope, and
forwards: the principal travels signed, the dialer's answer (Location, problems, empty 204s) comes back
unchanged, and bad input stops at the edge."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest

from dialer.main import create_app as create_dialer
from dialer.testing import dialer_settings
from dialplane.db import SessionFactory
from dialplane.internal_auth import PRINCIPAL_HEADER, verify_principal
from dialplane.testing.database import TEST_INTERNAL_TOKEN
from gateway.main import create_app
from gateway.settings import Settings
from gateway.testing import gateway_settings

from .conftest import FakeDialer, api_key_headers, gateway_to, user_headers

LEADS = "/api/v1/leads"
SOME_LEAD = f"{LEADS}/{uuid.uuid4()}"


def test_every_leads_route_of_the_dialer_is_declared_by_the_gateway(database_url: str) -> None:
    internal = create_dialer(dialer_settings(database_url)).openapi()["paths"]
    public = create_app(gateway_settings(database_url)).openapi()["paths"]
    routes = [
        (path, method, operation)
        for path, operations in internal.items()
        if path.startswith(LEADS) and not path.startswith(f"{LEADS}/import")  # imports: their own routes
        for method, operation in operations.items()
    ]
    assert len(routes) == 6
    for path, method, operation in routes:
        declared = public[path][method]
        assert set(operation["responses"]) <= set(declared["responses"]), (method, path)
        internal_params = {p["name"] for p in operation.get("parameters", []) if p["in"] != "header"}
        assert internal_params <= {p["name"] for p in declared.get("parameters", [])}, (method, path)
        assert operation.get("requestBody") == declared.get("requestBody"), (method, path)


async def test_a_create_is_forwarded_signed_and_its_answer_returned(
    settings: Settings, sessions: SessionFactory
) -> None:
    dialer = FakeDialer(201, {"id": "x"}, {"Location": f"{LEADS}/x"})
    async with gateway_to(settings, dialer) as client:
        headers = await user_headers(client, sessions, "alice", ["leads:write"])
        answer = await client.post(LEADS, headers=headers, json={"phone": "+12025550100", "name": "Jane"})
    assert answer.status_code == 201 and answer.headers["location"] == f"{LEADS}/x"
    (request,) = dialer.seen
    assert (request.method, request.url.path) == ("POST", LEADS)
    assert json.loads(request.content) == {"phone": "+12025550100", "name": "Jane"}
    principal = verify_principal(request.headers[PRINCIPAL_HEADER], TEST_INTERNAL_TOKEN)
    assert (principal.id, principal.scopes) == ("user:alice", frozenset({"leads:write"}))
    assert "authorization" not in request.headers


async def test_problems_and_empty_answers_come_back_unchanged(
    settings: Settings, sessions: SessionFactory
) -> None:
    busy = {"type": "x", "title": "Conflict", "status": 409, "code": "lead_busy", "detail": "being called"}
    conflict = FakeDialer(409, busy, {"Content-Type": "application/problem+json"})
    async with gateway_to(settings, conflict) as client:
        headers = await user_headers(client, sessions, "alice", ["leads:write"])
        refused = await client.delete(SOME_LEAD, headers=headers)
    async with gateway_to(settings, FakeDialer(204)) as client:
        deleted = await client.delete(SOME_LEAD, headers=headers)
    assert refused.status_code == 409 and refused.json() == busy
    assert refused.headers["content-type"] == "application/problem+json"
    assert deleted.status_code == 204 and deleted.content == b""


ROUTES = [
    ("POST", LEADS, "leads:write", {"phone": "+12025550100"}),
    ("GET", f"{LEADS}?status=pending&status=callback&q=jane", "leads:read", None),
    ("GET", SOME_LEAD, "leads:read", None),
    ("PATCH", SOME_LEAD, "leads:write", {"status": "not_interested"}),
    ("DELETE", SOME_LEAD, "leads:write", None),
]


@pytest.mark.parametrize(("method", "path", "scope", "body"), ROUTES)
async def test_each_route_needs_its_scope_at_the_gateway(
    settings: Settings, sessions: SessionFactory, method: str, path: str, scope: str, body: Any
) -> None:
    dialer = FakeDialer()
    everything_else = {"leads:read", "leads:write", "calls:read", "calls:write"} - {scope}
    async with gateway_to(settings, dialer) as client:
        without = await user_headers(client, sessions, "without", everything_else)
        refused = await client.request(method, path, json=body, headers=without)
        anonymous = await client.request(method, path, json=body)
        assert dialer.seen == []
        with_scope = await user_headers(client, sessions, "with", [scope])
        allowed = await client.request(method, path, json=body, headers=with_scope)
        by_key = await client.request(
            method, path, json=body, headers=await api_key_headers(sessions, "crm", [scope])
        )
    assert refused.status_code == 403 and refused.json()["required_scope"] == scope
    assert anonymous.status_code == 401
    assert allowed.status_code == by_key.status_code == 200, allowed.text
    assert [(r.method, r.url.path) for r in dialer.seen] == [(method, path.split("?")[0])] * 2
    assert dialer.seen[0].url.query == httpx.URL(path).query


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", LEADS, {"phone": "+1202555CALL"}),
        ("POST", LEADS, {"phone": "+12025550100", "status": "contacted"}),
        ("POST", LEADS, {"phone": "+12025550100", "custom_fields": {"big": "x" * 17_000}}),
        ("GET", f"{LEADS}?status=asleep", None),
        ("GET", f"{LEADS}?limit=101", None),
        ("GET", f"{LEADS}?campaign_id=42", None),
        ("GET", f"{LEADS}/not-a-uuid", None),
        ("PATCH", SOME_LEAD, {"status": "calling"}),
        ("PATCH", SOME_LEAD, {"phone": None}),
        ("DELETE", f"{LEADS}/not-a-uuid", None),
    ],
)
async def test_bad_input_is_refused_at_the_edge_without_reaching_the_dialer(
    settings: Settings, sessions: SessionFactory, method: str, path: str, body: Any
) -> None:
    dialer = FakeDialer(500)
    async with gateway_to(settings, dialer) as client:
        headers = await user_headers(client, sessions, "alice", ["leads:read", "leads:write"])
        answer = await client.request(method, path, json=body, headers=headers)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert dialer.seen == []


async def test_leads_round_trip_through_the_gateway_to_the_dialer(
    database_url: str, settings: Settings, sessions: SessionFactory
) -> None:
    dialer = create_dialer(dialer_settings(database_url))
    async with dialer.router.lifespan_context(dialer):
        transport = httpx.ASGITransport(app=dialer, raise_app_exceptions=False)
        async with gateway_to(settings, transport) as client:
            headers = await user_headers(client, sessions, "alice", ["leads:read", "leads:write"])
            partner = await api_key_headers(sessions, "acme", ["leads:write"])
            created = await client.post(LEADS, headers=headers, json={"phone": "+1 202 555 0100"})
            transferred = await client.post(
                f"{LEADS}/partner-transfer",
                headers=partner,
                json={"leads": [{"phone": "+12025550100", "name": "Jane"}, {"phone": "+12025550101"}]},
            )
            listed = await client.get(LEADS, headers=headers, params={"partner": "acme"})
            deleted = await client.delete(created.headers["location"], headers=headers)

    assert created.status_code == 201, created.text
    assert transferred.status_code == 200, transferred.text
    assert [r["status"] for r in transferred.json()["results"]] == ["merged", "created"]
    assert [lead["phone"] for lead in listed.json()["items"]] == ["+12025550101", "+12025550100"]
    assert listed.json()["items"][1]["name"] == "Jane"
    assert deleted.status_code == 204
