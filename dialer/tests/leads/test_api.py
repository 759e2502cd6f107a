"""The leads API: create (normalised, one lead per phone), read with the effective time zone, change, delete;
a lead being called keeps its status and phone; every bad input is a 4xx naming the problem."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from dialer.settings import Settings
from dialer.testing import add_campaign, dialer_client, principal
from dialplane.db import SessionFactory

from .conftest import LEADS, create, join_campaign, set_columns


async def test_a_created_lead_is_normalised_and_can_be_read_back(client: httpx.AsyncClient) -> None:
    body = {
        "phone": "+1 (202) 555-0100",
        "name": "Jane Doe",
        "email": "Jane@Example.com",
        "timezone": "America/Chicago",
        "language": "en-US",
        "consent": True,
        "consent_source": "web form",
        "consent_at": "2026-03-01T10:00:00",
        "partner": "acme",
        "custom_fields": {"crm_id": 42, "tags": ["solar"]},
    }
    response = await client.post(LEADS, json=body)

    assert response.status_code == 201, response.text
    lead = response.json()
    assert response.headers["location"] == f"{LEADS}/{lead['id']}"
    assert lead["phone"] == "+12025550100" and lead["email"] == "jane@example.com"
    assert (lead["timezone"], lead["timezone_source"]) == ("America/Chicago", "lead")
    assert lead["number_timezones"] == ["America/New_York"]
    assert lead["consent"] is True and lead["consent_at"] == "2026-03-01T10:00:00Z"
    assert (lead["status"], lead["partner"]) == ("pending", "acme")
    assert lead["custom_fields"] == {"crm_id": 42, "tags": ["solar"]}
    assert (await client.get(f"{LEADS}/{lead['id']}")).json() == lead


@pytest.mark.parametrize(
    ("phone", "timezone", "source", "number_zones"),
    [
        ("+12025550100", "America/New_York", "number", 1),  # Washington, DC: one zone
        ("+61412345678", None, None, 8),  # an Australian mobile: any of the country's zones
    ],
)
async def test_without_its_own_zone_a_lead_takes_its_number_s_only_zone(
    client: httpx.AsyncClient, phone: str, timezone: str | None, source: str | None, number_zones: int
) -> None:
    lead = await create(client, phone)
    assert (lead["timezone"], lead["timezone_source"]) == (timezone, source)
    assert len(lead["number_timezones"]) == number_zones
    assert lead["consent"] is False and lead["name"] is None and lead["custom_fields"] == {}


async def test_a_second_lead_with_the_same_phone_is_a_409_naming_the_first(client: httpx.AsyncClient) -> None:
    first = await create(client, "+12025550100")
    again = await client.post(LEADS, json={"phone": "+1 202-555-0100", "name": "Other"})
    assert again.status_code == 409 and again.headers["content-type"] == "application/problem+json"
    assert again.json()["code"] == "lead_exists" and again.json()["lead_id"] == first["id"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"phone": "+1202555CALL"}, "phone"),
        ({"phone": "+1 202 000 0000"}, "phone"),  # not in the numbering plan (the dialer's check)
        ({"name": "x"}, "phone"),
        ({"phone": "+12025550100", "timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"phone": "+12025550100", "email": "not-an-email"}, "email"),
        ({"phone": "+12025550100", "language": "english language"}, "language"),
        ({"phone": "+12025550100", "name": "x" * 201}, "name"),
        ({"phone": "+12025550100", "name": "a\x00b"}, "name"),
        ({"phone": "+12025550100", "custom_fields": {"big": "x" * 17_000}}, "custom_fields"),
        ({"phone": "+12025550100", "custom_fields": {"k": "a\x00"}}, "custom_fields"),
        ({"phone": "+12025550100", "custom_fields": {f"k{i}": i for i in range(51)}}, "custom_fields"),
        ({"phone": "+12025550100", "custom_fields": [1]}, "custom_fields"),
        ({"phone": "+12025550100", "status": "contacted"}, "status"),
        ({"phone": "+12025550100", "consent_at": "yesterday"}, "consent_at"),
    ],
)
async def test_a_bad_lead_is_a_422_naming_the_field(
    client: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    response = await client.post(LEADS, json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [error["field"] for error in response.json()["errors"]] == [field]


async def test_an_unknown_lead_is_a_404_and_a_bad_id_a_422(client: httpx.AsyncClient) -> None:
    unknown = f"{LEADS}/{uuid.uuid4()}"
    answers = [
        await client.get(unknown),
        await client.patch(unknown, json={"name": "x"}),
        await client.delete(unknown),
    ]
    bad_id = await client.get(f"{LEADS}/not-a-uuid")
    assert [a.status_code for a in answers] == [404, 404, 404]
    assert {a.json()["code"] for a in answers} == {"lead_not_found"}
    assert bad_id.status_code == 422 and bad_id.json()["errors"][0]["field"] == "path.lead_id"


async def test_patch_changes_only_the_fields_given_and_null_clears_one(client: httpx.AsyncClient) -> None:
    lead = await create(client, name="Jane", email="jane@example.com", timezone="Europe/Berlin")
    response = await client.patch(
        f"{LEADS}/{lead['id']}",
        json={"phone": "+1 415 555 0100", "email": None, "timezone": None, "status": "callback"},
    )
    assert response.status_code == 200, response.text
    changed = response.json()
    assert (changed["phone"], changed["name"], changed["email"]) == ("+14155550100", "Jane", None)
    assert (changed["timezone"], changed["timezone_source"]) == ("America/Los_Angeles", "number")
    assert changed["status"] == "callback" and changed["updated_at"] > lead["updated_at"]
    replaced = await client.patch(f"{LEADS}/{lead['id']}", json={"custom_fields": {"b": 2}})
    assert replaced.json()["custom_fields"] == {"b": 2}
    unchanged = await client.patch(f"{LEADS}/{lead['id']}", json={})
    assert unchanged.json() == replaced.json()


async def test_patch_to_another_lead_s_phone_is_a_409(client: httpx.AsyncClient) -> None:
    first, second = await create(client, "+12025550100"), await create(client, "+12025550101")
    clash = await client.patch(f"{LEADS}/{second['id']}", json={"phone": "+1 202 555 0100"})
    assert clash.status_code == 409 and clash.json()["code"] == "lead_exists"
    assert clash.json()["lead_id"] == first["id"]
    assert (await client.get(f"{LEADS}/{second['id']}")).json()["phone"] == "+12025550101"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "queued"}, "status"),  # only the dialer sets queued and calling
        ({"status": "calling"}, "status"),
        ({"status": None}, "status"),
        ({"phone": None}, "phone"),
        ({"consent": None}, "consent"),
        ({"custom_fields": None}, "custom_fields"),
        ({"phone": "+1 202 000 0000"}, "phone"),
        ({"timezone": "Nowhere/City"}, "timezone"),
        ({"id": str(uuid.uuid4())}, "id"),
    ],
)
async def test_a_bad_patch_is_a_422_naming_the_field(
    client: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    lead = await create(client)
    response = await client.patch(f"{LEADS}/{lead['id']}", json=body)
    assert response.status_code == 422, response.text
    assert [error["field"] for error in response.json()["errors"]] == [field]


@pytest.mark.parametrize("status", ["queued", "calling"])
async def test_a_lead_being_called_keeps_its_status_and_phone_and_cannot_be_deleted(
    client: httpx.AsyncClient, sessions: SessionFactory, status: str
) -> None:
    lead = await create(client)
    await set_columns(sessions, lead["id"], status=status)
    url = f"{LEADS}/{lead['id']}"

    refused = [
        await client.patch(url, json={"status": "not_interested"}),
        await client.patch(url, json={"phone": "+12025550101"}),
        await client.delete(url),
    ]
    renamed = await client.patch(url, json={"name": "Jane", "phone": "+1 202 555 0100"})

    assert [r.status_code for r in refused] == [409, 409, 409]
    assert {r.json()["code"] for r in refused} == {"lead_busy"}
    assert refused[0].json()["status"] == status
    assert renamed.status_code == 200 and renamed.json()["name"] == "Jane"
    assert renamed.json()["status"] == status


async def test_a_deleted_lead_is_gone_with_its_campaign_memberships(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    lead = await create(client)
    campaign_id = await add_campaign(sessions)
    await join_campaign(sessions, campaign_id, lead["id"])

    deleted = await client.delete(f"{LEADS}/{lead['id']}")

    assert deleted.status_code == 204 and deleted.content == b""
    assert (await client.get(f"{LEADS}/{lead['id']}")).status_code == 404
    assert (await client.get(LEADS, params={"campaign_id": str(campaign_id)})).json()["items"] == []
    assert (await create(client))["id"] != lead["id"]  # the phone is free again


ROUTES = [
    ("POST", LEADS, "leads:write"),
    ("GET", LEADS, "leads:read"),
    ("GET", f"{LEADS}/{uuid.uuid4()}", "leads:read"),
    ("PATCH", f"{LEADS}/{uuid.uuid4()}", "leads:write"),
    ("DELETE", f"{LEADS}/{uuid.uuid4()}", "leads:write"),
    ("POST", f"{LEADS}/partner-transfer", "leads:write"),
]


@pytest.mark.parametrize(("method", "path", "scope"), ROUTES)
async def test_each_route_needs_its_scope(
    settings: Settings, sessions: SessionFactory, method: str, path: str, scope: str
) -> None:
    other = "leads:read" if scope == "leads:write" else "leads:write"
    async with dialer_client(settings, who=principal({other, "calls:write"})) as client:
        response = await client.request(method, path, json={"phone": "+12025550100", "leads": [{}]})
        anonymous = await client.request(method, path, auth=None)
    assert response.status_code == 403 and response.json()["code"] == "insufficient_scope"
    assert anonymous.status_code == 401
