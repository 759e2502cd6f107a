"""The partner transfer: an API key hands over a batch of leads; each is created, merged into the lead with
its phone, or reported invalid on its own, and the key becomes the leads' partner."""

from __future__ import annotations

from typing import Any

import httpx

from dialer.settings import Settings
from dialer.testing import dialer_client, principal
from dialplane.db import SessionFactory
from dialplane.internal_auth import Principal

from .conftest import LEAD_SCOPES, LEADS, create, set_columns

TRANSFER = f"{LEADS}/partner-transfer"


async def transfer(client: httpx.AsyncClient, *leads: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(TRANSFER, json={"leads": list(leads)})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_new_leads_are_created_known_ones_merged_and_bad_ones_reported(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    known = await create(
        client,
        "+12025550100",
        name="Old name",
        email="old@example.com",
        partner="someone",
        language="en",
        custom_fields={"deal": 1, "source": "web"},
    )
    await set_columns(sessions, known["id"], status="callback")

    result = await transfer(
        client,
        {"phone": "+1 202 555 0100", "name": "New name", "consent": True, "custom_fields": {"deal": 7}},
        {"phone": "+1 202 555 0101", "name": "Fresh", "timezone": "America/Chicago"},
        {"phone": "+1 202 000 0000", "email": "nope", "timezone": "Mars/Base"},
        {"name": "no phone", "timezone": "Nowhere/City"},
    )

    assert (result["created"], result["merged"], result["invalid"]) == (1, 1, 2)
    merged, created, bad_values, bad_shape = result["results"]
    assert [r["index"] for r in result["results"]] == [0, 1, 2, 3]
    assert merged == {"index": 0, "status": "merged", "lead_id": known["id"], "errors": []}
    assert created["status"] == "created" and created["errors"] == []
    assert bad_values["status"] == "invalid" and bad_values["lead_id"] is None
    assert [e["field"] for e in bad_values["errors"]] == ["email"]  # the shape is checked first
    assert {e["field"] for e in bad_shape["errors"]} == {"phone"}
    lead = (await client.get(f"{LEADS}/{known['id']}")).json()
    assert (lead["name"], lead["email"], lead["language"]) == ("New name", "old@example.com", "en")
    assert (lead["partner"], lead["consent"], lead["status"]) == ("test key", True, "callback")
    assert lead["custom_fields"] == {"deal": 7, "source": "web"}  # key by key
    fresh = (await client.get(f"{LEADS}/{created['lead_id']}")).json()
    assert (fresh["phone"], fresh["timezone"]) == ("+12025550101", "America/Chicago")
    assert fresh["partner"] == "test key"


async def test_each_lead_s_value_problems_are_reported_together(client: httpx.AsyncClient) -> None:
    result = await transfer(client, {"phone": "+1 202 000 0000", "timezone": "Mars/Base"})
    (only,) = result["results"]
    assert [(e["field"], bool(e["message"])) for e in only["errors"]] == [("phone", True), ("timezone", True)]


async def test_the_same_phone_twice_in_a_batch_is_created_then_merged(client: httpx.AsyncClient) -> None:
    result = await transfer(
        client,
        {"phone": "+12025550102", "name": "First"},
        {"phone": "+12025550101", "name": "Other"},
        {"phone": "+1 202-555-0102", "email": "second@example.com"},
    )
    first, _, second = result["results"]
    assert (first["status"], second["status"]) == ("created", "merged")
    assert first["lead_id"] == second["lead_id"]
    lead = (await client.get(f"{LEADS}/{first['lead_id']}")).json()
    assert (lead["name"], lead["email"]) == ("First", "second@example.com")


async def test_a_partner_cannot_name_another_partner_or_set_a_status(client: httpx.AsyncClient) -> None:
    result = await transfer(
        client, {"phone": "+12025550100", "partner": "someone else"}, {"phone": "+12025550101", "status": "x"}
    )
    partner, status = result["results"]
    assert partner["status"] == status["status"] == "invalid"
    assert partner["errors"][0]["field"] == "partner" and "API key" in partner["errors"][0]["message"]
    assert status["errors"][0]["field"] == "status"
    assert (await client.get(LEADS)).json()["items"] == []


async def test_a_key_without_a_name_is_the_partner_by_its_id(
    settings: Settings, sessions: SessionFactory
) -> None:
    nameless = Principal(id="api_key:k9", kind="api_key", name="", scopes=frozenset(LEAD_SCOPES))
    async with dialer_client(settings, who=nameless) as client:
        result = await transfer(client, {"phone": "+12025550100"})
        lead = (await client.get(f"{LEADS}/{result['results'][0]['lead_id']}")).json()
    assert lead["partner"] == "api_key:k9"


async def test_a_user_cannot_transfer_leads(settings: Settings, sessions: SessionFactory) -> None:
    user = Principal(id="user:alice", kind="user", name="alice", scopes=frozenset({"admin"}))
    async with dialer_client(settings, who=user) as client:
        response = await client.post(TRANSFER, json={"leads": [{"phone": "+12025550100"}]})
        listed = await client.get(LEADS)
    assert response.status_code == 403 and response.json()["code"] == "api_key_required"
    assert "API key" in response.json()["detail"]
    assert listed.json()["items"] == []


async def test_the_batch_is_bounded(settings: Settings, sessions: SessionFactory) -> None:
    async with dialer_client(settings, who=principal(LEAD_SCOPES)) as client:
        empty = await client.post(TRANSFER, json={"leads": []})
        too_many = await client.post(TRANSFER, json={"leads": [{"phone": "+12025550100"}] * 501})
        not_objects = await client.post(TRANSFER, json={"leads": ["+12025550100"]})
    assert [r.status_code for r in (empty, too_many, not_objects)] == [422, 422, 422]
    assert too_many.json()["errors"][0]["field"] == "leads"


async def test_a_full_batch_of_500_is_written(client: httpx.AsyncClient) -> None:
    leads = [{"phone": f"+1202555{i:04d}", "name": f"Lead {i}"} for i in range(500)]
    result = await transfer(client, *leads)
    assert (result["created"], result["merged"], result["invalid"]) == (500, 0, 0)
    again = await transfer(client, *leads)
    assert (again["created"], again["merged"]) == (0, 500)
