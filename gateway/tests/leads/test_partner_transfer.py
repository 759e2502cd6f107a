"""The partner transfer at the gateway: API keys only, and each key at most ``partner_transfer_per_minute``
transfers a minute (429 problem+json with Retry-After past it)."""

from __future__ import annotations

from dialplane.db import SessionFactory
from dialplane.internal_auth import PRINCIPAL_HEADER, verify_principal
from dialplane.testing.database import TEST_INTERNAL_TOKEN
from gateway.testing import FakeClock, gateway_settings

from .conftest import FakeDialer, api_key_headers, gateway_to, user_headers

TRANSFER = "/api/v1/leads/partner-transfer"
BATCH = {"leads": [{"phone": "+12025550100"}]}
ANSWER = {"results": [], "created": 0, "merged": 0, "invalid": 0}


async def test_an_api_key_s_batch_is_forwarded_with_the_key_as_principal(
    database_url: str, sessions: SessionFactory
) -> None:
    dialer = FakeDialer(200, ANSWER)
    async with gateway_to(gateway_settings(database_url), dialer) as client:
        answer = await client.post(
            TRANSFER, json=BATCH, headers=await api_key_headers(sessions, "acme", ["leads:write"])
        )
    assert answer.status_code == 200 and answer.json() == ANSWER
    (request,) = dialer.seen
    principal = verify_principal(request.headers[PRINCIPAL_HEADER], TEST_INTERNAL_TOKEN)
    assert (principal.kind, principal.name) == ("api_key", "acme")


async def test_a_user_token_or_a_key_without_leads_write_is_refused(
    database_url: str, sessions: SessionFactory
) -> None:
    dialer = FakeDialer(200, ANSWER)
    async with gateway_to(gateway_settings(database_url), dialer) as client:
        admin = await user_headers(client, sessions, "root", ["admin"])
        by_user = await client.post(TRANSFER, json=BATCH, headers=admin)
        reader = await api_key_headers(sessions, "reader", ["leads:read"])
        by_reader = await client.post(TRANSFER, json=BATCH, headers=reader)
    assert by_user.status_code == 403 and by_user.json()["code"] == "api_key_required"
    assert "API key" in by_user.json()["detail"]
    assert by_reader.status_code == 403 and by_reader.json()["required_scope"] == "leads:write"
    assert dialer.seen == []


async def test_each_key_has_its_own_partner_transfer_rate_limit(
    database_url: str, sessions: SessionFactory
) -> None:
    clock, dialer = FakeClock(), FakeDialer(200, ANSWER)
    settings = gateway_settings(database_url, partner_transfer_per_minute=2)
    async with gateway_to(settings, dialer, clock) as client:
        acme = await api_key_headers(sessions, "acme", ["leads:write", "leads:read"])
        other = await api_key_headers(sessions, "other", ["leads:write"])
        first = [await client.post(TRANSFER, json=BATCH, headers=acme) for _ in range(3)]
        listing = await client.get("/api/v1/leads", headers=acme)  # other routes are not limited by it
        by_other = await client.post(TRANSFER, json=BATCH, headers=other)
        clock.advance(30)  # 2 a minute: one transfer back every 30 s
        later = await client.post(TRANSFER, json=BATCH, headers=acme)

    assert [r.status_code for r in first] == [200, 200, 429]
    limited = first[2]
    assert limited.headers["content-type"] == "application/problem+json"
    assert limited.headers["retry-after"] == "30"
    assert limited.json()["code"] == "rate_limited" and limited.json()["limit_per_minute"] == 2
    assert listing.status_code == by_other.status_code == later.status_code == 200
    assert len(dialer.seen) == 5


async def test_an_oversized_batch_stops_at_the_edge(database_url: str, sessions: SessionFactory) -> None:
    dialer = FakeDialer(200, ANSWER)
    async with gateway_to(gateway_settings(database_url), dialer) as client:
        key = await api_key_headers(sessions, "acme", ["leads:write"])
        too_many = await client.post(TRANSFER, json={"leads": [{"phone": "+12025550100"}] * 501}, headers=key)
        not_a_list = await client.post(TRANSFER, json={"leads": "all"}, headers=key)
    assert too_many.status_code == not_a_list.status_code == 422
    assert too_many.json()["errors"][0]["field"] == "leads"
    assert dialer.seen == []
