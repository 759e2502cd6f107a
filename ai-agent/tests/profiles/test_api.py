"""Agent profiles through the API: the default one the migration made, create / read / replace / change /
delete, and every bad input answered with a problem naming the field."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from ai_agent.testing import ALL_TOOLS, DEFAULT_VOICEMAIL

PROFILES = "/api/v1/agent-profiles"


async def create(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await client.post(PROFILES, json={"name": "sales", **body})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_the_default_profile_is_there_with_every_tool(client: httpx.AsyncClient) -> None:
    listed = await client.get(PROFILES)
    default = await client.get(f"{PROFILES}/default")

    assert listed.status_code == default.status_code == 200
    assert [p["name"] for p in listed.json()["items"]] == ["default"]
    body = default.json()
    assert body["tools"] == ALL_TOOLS and body["voicemail_message"] == DEFAULT_VOICEMAIL
    assert (body["agent_name"], body["company_name"], body["meeting_title"]) == (
        "Alex",
        "Dialplane",
        "Introductory call",
    )
    assert body["system_prompt"] is None and body["voice"] is None and body["language"] is None
    assert body["calendar"] == "default" and body["transfer_destination"] is None


async def test_a_profile_is_created_read_and_listed_by_name(client: httpx.AsyncClient) -> None:
    response = await client.post(
        PROFILES,
        json={
            "name": "sales",
            "description": "Solar leads",
            "system_prompt": "You are $agent_name of $company. Book $meeting_minutes minutes; costs $$5.",
            "voice": "en-test",
            "language": "en_us",
            "tools": ["book_meeting", "end_call", "book_meeting"],
            "calendar": "sales",
            "voicemail_message": "Hi, Sam from Sunny Roofs here; it costs $5.",
            "transfer_destination": "PJSIP/sales-desk",
            "agent_name": "  Sam ",
            "company_name": "Sunny Roofs",
            "meeting_title": "Solar consultation",
        },
    )

    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"{PROFILES}/sales"
    created = response.json()
    assert created["language"] == "en-US" and created["tools"] == ["book_meeting", "end_call"]
    assert created["agent_name"] == "Sam" and created["calendar"] == "sales"
    assert (await client.get(f"{PROFILES}/sales")).json() == created
    names = [p["name"] for p in (await client.get(PROFILES)).json()["items"]]
    assert names == ["default", "sales"]


async def test_defaults_apply_to_what_a_new_profile_leaves_out(client: httpx.AsyncClient) -> None:
    created = await create(client)
    assert created["tools"] == ALL_TOOLS and created["voicemail_message"] is None
    assert (
        created["calendar"] == "default" and created["agent_name"] == "Alex" and created["description"] == ""
    )


async def test_a_taken_name_is_a_conflict(client: httpx.AsyncClient) -> None:
    await create(client, agent_name="First")
    again = await client.post(PROFILES, json={"name": "sales", "agent_name": "Second"})
    assert again.status_code == 409 and again.json()["code"] == "profile_exists"
    assert (await client.get(f"{PROFILES}/sales")).json()["agent_name"] == "First"


async def test_put_replaces_every_setting(client: httpx.AsyncClient) -> None:
    created = await create(client, voice="en-test", language="de", agent_name="Sam", tools=["end_call"])

    response = await client.put(f"{PROFILES}/sales", json={"company_name": "Acme"})

    assert response.status_code == 200, response.text
    replaced = response.json()
    assert replaced["company_name"] == "Acme" and replaced["agent_name"] == "Alex"
    assert replaced["voice"] is None and replaced["language"] is None and replaced["tools"] == ALL_TOOLS
    assert replaced["created_at"] == created["created_at"] and replaced["updated_at"] > created["updated_at"]


async def test_patch_changes_only_what_it_gives_and_null_clears(client: httpx.AsyncClient) -> None:
    await create(client, voice="en-test", language="de", agent_name="Sam")

    response = await client.patch(f"{PROFILES}/sales", json={"voice": None, "meeting_title": "Demo"})

    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed["voice"] is None and changed["meeting_title"] == "Demo"
    assert changed["language"] == "de" and changed["agent_name"] == "Sam"


async def test_the_default_profile_can_be_changed(client: httpx.AsyncClient) -> None:
    response = await client.patch(f"{PROFILES}/default", json={"voicemail_message": None})
    assert response.status_code == 200 and response.json()["voicemail_message"] is None


async def test_a_deleted_profile_is_gone_and_the_default_cannot_be_deleted(client: httpx.AsyncClient) -> None:
    await create(client)

    deleted = await client.delete(f"{PROFILES}/sales")
    again = await client.delete(f"{PROFILES}/sales")
    default = await client.delete(f"{PROFILES}/default")

    assert deleted.status_code == 204 and deleted.content == b""
    assert (await client.get(f"{PROFILES}/sales")).status_code == 404
    assert again.status_code == 404 and again.json()["code"] == "profile_not_found"
    assert default.status_code == 409 and default.json()["code"] == "default_profile"
    assert (await client.get(f"{PROFILES}/default")).status_code == 200


@pytest.mark.parametrize(
    ("method", "name"),
    [("GET", "nobody"), ("PUT", "nobody"), ("PATCH", "nobody"), ("DELETE", "nobody")],
)
async def test_unknown_profiles_are_404(client: httpx.AsyncClient, method: str, name: str) -> None:
    response = await client.request(method, f"{PROFILES}/{name}", json={})
    assert response.status_code == 404 and response.json()["code"] == "profile_not_found"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "../etc"}, "name"),
        ({"name": "x" * 65}, "name"),
        ({"name": ""}, "name"),
        ({"tools": ["launch_rockets"]}, "tools.0"),
        ({"tools": "end_call"}, "tools"),
        ({"language": "english"}, "language"),
        ({"language": "en-USA-x"}, "language"),
        ({"calendar": "nonexistent"}, "calendar"),
        ({"calendar": "../x"}, "calendar"),
        ({"system_prompt": ""}, "system_prompt"),
        ({"system_prompt": "   "}, "system_prompt"),
        ({"system_prompt": "x" * 20_001}, "system_prompt"),
        ({"system_prompt": "Hello $nonsense"}, "system_prompt"),
        ({"system_prompt": "In ${currency}"}, "system_prompt"),
        ({"voicemail_message": "x" * 1001}, "voicemail_message"),
        ({"voice": "has spaces"}, "voice"),
        ({"transfer_destination": "two words"}, "transfer_destination"),
        ({"agent_name": "   "}, "agent_name"),
        ({"company_name": None}, "company_name"),
        ({"description": "nul\x00"}, "description"),
        ({"colour": "blue"}, "colour"),
    ],
)
async def test_bad_profiles_are_refused_naming_the_field(
    client: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    response = await client.post(PROFILES, json={"name": "sales", **body})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [error["field"] for error in response.json()["errors"]]
    assert (await client.get(f"{PROFILES}/sales")).status_code == 404


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"tools": None}, "tools cannot be null"),
        ({"calendar": "nonexistent"}, "configured: default, sales"),
        ({"system_prompt": "Hi $lead"}, "unknown placeholder $lead"),
    ],
)
async def test_bad_changes_are_refused_and_leave_the_profile_as_it_was(
    client: httpx.AsyncClient, body: dict[str, Any], message: str
) -> None:
    before = (await client.get(f"{PROFILES}/default")).json()
    response = await client.patch(f"{PROFILES}/default", json=body)
    assert response.status_code == 422, response.text
    assert message in response.text
    assert (await client.get(f"{PROFILES}/default")).json() == before


async def test_a_malformed_name_in_the_path_is_422(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{PROFILES}/-bad")
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "path.name"
