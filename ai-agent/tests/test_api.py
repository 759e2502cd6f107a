"""Every route of the ai-agent's API needs the principal the gateway signs (none or a bad one → 401) and its
scope (→ 403 without; ``admin`` is enough); and the service as it runs serves them with its own speech
provider."""

from __future__ import annotations

import time
import uuid

import pytest

from ai_agent.settings import Settings
from ai_agent.testing import agent_client, agent_settings, api_app, principal
from dialplane.db import SessionFactory
from dialplane.internal_auth import PRINCIPAL_HEADER, sign_principal
from dialplane.testing.database import TEST_INTERNAL_TOKEN

CALL = f"/api/v1/calls/{uuid.uuid4()}"
MEETING = f"/api/v1/meetings/{uuid.uuid4()}"
ROUTES = [
    ("GET", "/api/v1/agent-profiles", "agents:read"),
    ("POST", "/api/v1/agent-profiles", "agents:write"),
    ("GET", "/api/v1/agent-profiles/default", "agents:read"),
    ("PUT", "/api/v1/agent-profiles/default", "agents:write"),
    ("PATCH", "/api/v1/agent-profiles/default", "agents:write"),
    ("DELETE", "/api/v1/agent-profiles/other", "agents:write"),
    ("GET", "/api/v1/settings/system-prompt", "agents:read"),
    ("PUT", "/api/v1/settings/system-prompt", "agents:write"),
    ("DELETE", "/api/v1/settings/system-prompt", "agents:write"),
    ("GET", "/api/v1/settings/system-prompt/default", "agents:read"),
    ("GET", "/api/v1/voices", "agents:read"),
    ("GET", "/api/v1/voices/en-test/preview", "agents:read"),
    ("GET", "/api/v1/meetings", "meetings:read"),
    ("GET", MEETING, "meetings:read"),
    ("PATCH", MEETING, "meetings:write"),
    ("GET", f"{CALL}/conversation", "calls:read"),
    ("GET", f"{CALL}/transcript", "calls:read"),
    ("GET", f"{CALL}/recording", "calls:read"),
]
BODY = {"name": "other", "prompt": "Hello $lead_name", "status": "cancelled"}


@pytest.fixture
def settings(database_url: str) -> Settings:
    return agent_settings(database_url)


def test_the_table_names_every_route_of_the_api(settings: Settings) -> None:
    paths = api_app(settings).openapi()["paths"]
    served = {
        (method.upper(), path) for path, ops in paths.items() for method in ops if path.startswith("/api")
    }
    assert len(served) == len(ROUTES)


@pytest.mark.parametrize(("method", "path", "scope"), ROUTES)
async def test_without_a_valid_principal_every_route_is_401(
    settings: Settings, sessions: SessionFactory, method: str, path: str, scope: str
) -> None:
    bad_tokens = [
        "not-a-token",
        sign_principal(principal(), "another-secret-entirely"),
        sign_principal(principal(), TEST_INTERNAL_TOKEN, now=time.time() - 3600),
    ]
    async with agent_client(settings) as client:
        client.auth = None
        missing = await client.request(method, path, json=BODY)
        bad = [
            await client.request(method, path, json=BODY, headers={PRINCIPAL_HEADER: t}) for t in bad_tokens
        ]
    assert missing.status_code == 401 and missing.json()["code"] == "missing_internal_token"
    assert [response.status_code for response in bad] == [401, 401, 401]


@pytest.mark.parametrize(("method", "path", "scope"), ROUTES)
async def test_a_principal_without_the_scope_is_403_and_with_it_or_admin_gets_through(
    settings: Settings, sessions: SessionFactory, method: str, path: str, scope: str
) -> None:
    others = {"agents:read", "agents:write", "meetings:read", "meetings:write", "calls:read", "calls:write"}
    async with agent_client(settings, who=principal(others - {scope})) as client:
        refused = await client.request(method, path, json=BODY)
    async with agent_client(settings, who=principal({scope})) as client:
        allowed = await client.request(method, path, json=BODY)
    async with agent_client(settings, who=principal({"admin"})) as client:
        admin = await client.request(method, path, json=BODY)
    assert refused.status_code == 403 and refused.json()["code"] == "insufficient_scope"
    assert allowed.status_code not in (401, 403) and admin.status_code == allowed.status_code


async def test_the_running_service_serves_the_api_with_its_own_speech_provider(
    settings: Settings, sessions: SessionFactory
) -> None:
    async with agent_client(settings, engine=True) as client:
        profiles = await client.get("/api/v1/agent-profiles/default")
        voices = await client.get("/api/v1/voices", params={"language": "en"})
        voice = voices.json()["items"][0]["id"]
        preview = await client.get(f"/api/v1/voices/{voice}/preview", params={"text": "Hello"})
    assert profiles.status_code == 200 and profiles.json()["name"] == "default"
    assert voices.status_code == 200 and voices.json()["items"], voices.text
    assert preview.status_code == 200 and preview.content.startswith(b"RIFF")
    assert len(preview.content) > 1000  # espeak-ng said something
