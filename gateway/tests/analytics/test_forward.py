"""The gateway declares the dialer's reporting routes with the same models, checks the scope (campaigns:read
for a campaign's report, analytics:read for the analytics) and forwards with the query unchanged; bad filters
stop at the edge; the figures come back from a real dialer."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

import httpx
import pytest

from dialer.main import create_app as create_dialer
from dialer.testing import add_campaign, dialer_settings
from dialplane.db import SessionFactory
from dialplane.internal_auth import PRINCIPAL_HEADER, verify_principal
from dialplane.testing.database import TEST_INTERNAL_TOKEN
from gateway.main import create_app
from gateway.settings import Settings
from gateway.testing import add_user, bearer, gateway_client, gateway_settings, login

PASSWORD = "correct horse battery"
ANALYTICS = "/api/v1/analytics"
SOME_CAMPAIGN = uuid.uuid4()
REPORT = f"/api/v1/campaigns/{SOME_CAMPAIGN}/report"


@asynccontextmanager
async def gateway_to(
    settings: Settings, dialer: httpx.AsyncBaseTransport
) -> AsyncIterator[httpx.AsyncClient]:
    async with gateway_client(settings, dialer_transport=dialer) as client:
        yield client


async def headers_for(
    client: httpx.AsyncClient, sessions: SessionFactory, name: str, scopes: Iterable[str]
) -> dict[str, str]:
    await add_user(sessions, name, PASSWORD, list(scopes))
    return bearer(await login(client, name, PASSWORD))


def recording(seen: list[httpx.Request]) -> httpx.MockTransport:
    return httpx.MockTransport(lambda request: seen.append(request) or httpx.Response(200, json={}))


def test_every_reporting_route_of_the_dialer_is_declared_by_the_gateway(database_url: str) -> None:
    internal = create_dialer(dialer_settings(database_url)).openapi()["paths"]
    public = create_app(gateway_settings(database_url)).openapi()["paths"]
    routes = [
        (path, method, operation)
        for path, operations in internal.items()
        if path.startswith(ANALYTICS) or path.endswith("/report")
        for method, operation in operations.items()
    ]
    assert len(routes) == 8
    for path, method, operation in routes:
        declared = public[path][method]
        assert set(operation["responses"]) <= set(declared["responses"]), (method, path)
        internal_params = {p["name"] for p in operation.get("parameters", []) if p["in"] != "header"}
        assert internal_params == {p["name"] for p in declared.get("parameters", [])}, (method, path)
        assert operation["responses"]["200"] == declared["responses"]["200"], (method, path)


ROUTES = [
    (REPORT, "campaigns:read"),
    (f"{ANALYTICS}/overview?since=2026-03-01T00:00:00Z&campaign_id={SOME_CAMPAIGN}", "analytics:read"),
    (f"{ANALYTICS}/call-outcomes?until=2026-03-01T00:00:00Z", "analytics:read"),
    (f"{ANALYTICS}/languages", "analytics:read"),
    (f"{ANALYTICS}/lead-statuses", "analytics:read"),
    (f"{ANALYTICS}/recent-activity?limit=5", "analytics:read"),
    (f"{ANALYTICS}/active-campaigns", "analytics:read"),
    (f"{ANALYTICS}/voices", "analytics:read"),
]


@pytest.mark.parametrize(("path", "scope"), ROUTES)
async def test_each_route_needs_its_scope_and_is_forwarded_as_asked(
    settings: Settings, sessions: SessionFactory, path: str, scope: str
) -> None:
    seen: list[httpx.Request] = []
    other = {"campaigns:read", "analytics:read", "calls:read", "leads:read"} - {scope}
    async with gateway_to(settings, recording(seen)) as client:
        refused = await client.get(path, headers=await headers_for(client, sessions, "without", other))
        anonymous = await client.get(path)
        assert seen == []
        allowed = await client.get(path, headers=await headers_for(client, sessions, "with", [scope]))
    assert refused.status_code == 403 and refused.json()["required_scope"] == scope
    assert anonymous.status_code == 401
    assert allowed.status_code == 200, allowed.text
    (request,) = seen
    assert (request.url.path, request.url.params) == (httpx.URL(path).path, httpx.URL(path).params)
    principal = verify_principal(request.headers[PRINCIPAL_HEADER], TEST_INTERNAL_TOKEN)
    assert (principal.id, principal.scopes) == ("user:with", frozenset({scope}))


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/campaigns/not-a-uuid/report",
        f"{ANALYTICS}/overview?since=2026-03-02T00:00:00Z&until=2026-03-01T00:00:00Z",
        f"{ANALYTICS}/overview?since=last-week",
        f"{ANALYTICS}/languages?campaign_id=spring",
        f"{ANALYTICS}/voices?campain_id={SOME_CAMPAIGN}",
        f"{ANALYTICS}/recent-activity?limit=101",
        f"{ANALYTICS}/recent-activity?limit=0",
        f"{ANALYTICS}/active-campaigns?campaign_id=1",
    ],
)
async def test_bad_filters_are_refused_at_the_edge_without_reaching_the_dialer(
    settings: Settings, sessions: SessionFactory, path: str
) -> None:
    seen: list[httpx.Request] = []
    async with gateway_to(settings, recording(seen)) as client:
        answer = await client.get(path, headers=await headers_for(client, sessions, "alice", ["admin"]))
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert seen == []


async def test_the_figures_come_through_from_the_dialer(
    database_url: str, settings: Settings, sessions: SessionFactory
) -> None:
    campaign = await add_campaign(sessions, name="Spring", status="paused")
    dialer = create_dialer(dialer_settings(database_url))
    async with dialer.router.lifespan_context(dialer):
        transport = httpx.ASGITransport(app=dialer, raise_app_exceptions=False)
        async with gateway_to(settings, transport) as client:
            headers = await headers_for(client, sessions, "alice", ["campaigns:read", "analytics:read"])
            report = await client.get(f"/api/v1/campaigns/{campaign}/report", headers=headers)
            unknown = await client.get(REPORT, headers=headers)
            active = await client.get(f"{ANALYTICS}/active-campaigns", headers=headers)
            overview = await client.get(f"{ANALYTICS}/overview", params={"campaign_id": str(campaign)})

    assert report.status_code == 200, report.text
    assert (report.json()["name"], report.json()["leads"]["progress"]) == ("Spring", 0)
    assert unknown.status_code == 404 and unknown.json()["code"] == "campaign_not_found"
    assert [c["name"] for c in active.json()["items"]] == ["Spring"]
    assert overview.status_code == 401
