"""The gateway declares every route of the ai-agent's API under the same path with the same models, checks
the scope, and forwards: answers (problems, empty 204s, plain text and WAV audio) come back unchanged; bad
input stops at the edge; an ai-agent that cannot be reached is a 503 with Retry-After."""

from __future__ import annotations

import datetime as dt
import uuid

import httpx
import pytest

from ai_agent.calendar import Attendee, BuiltinCalendar
from ai_agent.conversations import repository
from ai_agent.testing import agent_settings, api_app
from dialplane.db import SessionFactory, transaction
from gateway.main import create_app
from gateway.testing import add_user, bearer, gateway_settings, login

from .conftest import PASSWORD, Login, gateway_to

AGENT = ("agents:read", "agents:write")
T0 = dt.datetime(2026, 6, 15, 9, 0, tzinfo=dt.UTC)


def test_every_route_of_the_ai_agent_is_declared_by_the_gateway(database_url: str) -> None:
    internal = api_app(agent_settings(database_url)).openapi()["paths"]
    public = create_app(gateway_settings(database_url)).openapi()["paths"]
    routes = [
        (path, method, op)
        for path, ops in internal.items()
        if path.startswith("/api")
        for method, op in ops.items()
    ]
    assert len(routes) == 18
    for path, method, operation in routes:
        declared = public[path][method]
        assert set(operation["responses"]) - {"422"} <= set(declared["responses"]), (method, path)
        internal_params = {p["name"] for p in operation.get("parameters", []) if p["in"] != "header"}
        assert internal_params <= {p["name"] for p in declared.get("parameters", [])}, (method, path)


async def test_profiles_and_the_prompt_round_trip_through_the_gateway(
    client: httpx.AsyncClient, log_in: Login
) -> None:
    headers = await log_in(AGENT)

    created = await client.post(
        "/api/v1/agent-profiles", headers=headers, json={"name": "sales", "language": "de"}
    )
    patched = await client.patch("/api/v1/agent-profiles/sales", headers=headers, json={"voice": "de-test"})
    listed = await client.get("/api/v1/agent-profiles", headers=headers)
    deleted = await client.delete("/api/v1/agent-profiles/sales", headers=headers)
    default = await client.delete("/api/v1/agent-profiles/default", headers=headers)
    prompt = await client.put(
        "/api/v1/settings/system-prompt", headers=headers, json={"prompt": "Hi $lead_name"}
    )
    active = await client.get("/api/v1/settings/system-prompt", headers=headers)
    shipped = await client.get("/api/v1/settings/system-prompt/default", headers=headers)

    assert created.status_code == 201 and created.headers["location"] == "/api/v1/agent-profiles/sales"
    assert patched.json()["voice"] == "de-test" and patched.json()["language"] == "de"
    assert [p["name"] for p in listed.json()["items"]] == ["default", "sales"]
    assert deleted.status_code == 204 and deleted.content == b""
    assert default.status_code == 409 and default.headers["content-type"] == "application/problem+json"
    assert default.json()["code"] == "default_profile"
    assert prompt.status_code == 200 and active.json()["prompt"] == "Hi $lead_name"
    assert shipped.json()["prompt"].startswith("You are $agent_name")


async def test_voices_and_a_wav_preview_come_through(client: httpx.AsyncClient, log_in: Login) -> None:
    headers = await log_in(["agents:read"])
    voices = await client.get("/api/v1/voices?language=de", headers=headers)
    preview = await client.get("/api/v1/voices/de-test/preview?text=Hallo", headers=headers)
    assert [v["id"] for v in voices.json()["items"]] == ["de-test"]
    assert preview.status_code == 200 and preview.headers["content-type"] == "audio/wav"
    assert preview.content[:4] == b"RIFF" and len(preview.content) == 44 + 2 * len("Hallo")


async def test_meetings_come_through(
    client: httpx.AsyncClient, log_in: Login, calendar: BuiltinCalendar
) -> None:
    meeting = await calendar.book(T0 + dt.timedelta(days=1), attendee=Attendee("Jane"), title="Intro")
    reader, writer = await log_in(["meetings:read"]), await log_in(["meetings:write"])

    listed = await client.get("/api/v1/meetings", headers=reader, params={"from": "2026-06-16T00:00:00Z"})
    one = await client.get(f"/api/v1/meetings/{meeting.id}", headers=reader)
    cancelled = await client.patch(
        f"/api/v1/meetings/{meeting.id}", headers=writer, json={"status": "cancelled"}
    )
    unknown = await client.get(f"/api/v1/meetings/{uuid.uuid4()}", headers=reader)

    assert [m["id"] for m in listed.json()["items"]] == [meeting.id]
    assert one.json()["attendee"]["name"] == "Jane"
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert unknown.status_code == 404 and unknown.json()["code"] == "meeting_not_found"


async def test_a_call_s_conversation_transcript_and_recording_come_through(
    client: httpx.AsyncClient, log_in: Login, sessions: SessionFactory
) -> None:
    call_id, audio = uuid.uuid4(), b"RIFF" + bytes(range(256)) * 100
    async with transaction(sessions) as session:
        await repository.create_pending(
            session, call_id=call_id, profile="default", to_number="+12025550100", lead={}, variables={}
        )
        await repository.add_turn(
            session, call_id, speaker="agent", text="Hello.", started_at=T0, ended_at=T0
        )
        await repository.add_turn(session, call_id, speaker="person", text="Bye.", started_at=T0, ended_at=T0)
        await repository.save_recording(session, call_id, audio, "audio/wav", 3.0)
    headers = await log_in(["calls:read"])

    conversation = await client.get(f"/api/v1/calls/{call_id}/conversation", headers=headers)
    as_json = await client.get(f"/api/v1/calls/{call_id}/transcript", headers=headers)
    by_accept = await client.get(
        f"/api/v1/calls/{call_id}/transcript", headers={**headers, "Accept": "text/plain"}
    )
    by_query = await client.get(f"/api/v1/calls/{call_id}/transcript?format=text", headers=headers)
    recording = await client.get(f"/api/v1/calls/{call_id}/recording", headers=headers)

    assert conversation.status_code == 200 and conversation.json()["status"] == "pending"
    assert [t["text"] for t in as_json.json()["turns"]] == ["Hello.", "Bye."]
    assert by_accept.text == by_query.text == "Agent: Hello.\nPerson: Bye.\n"
    assert by_accept.headers["content-type"].startswith("text/plain")
    assert recording.headers["content-type"] == "audio/wav" and recording.content == audio


ROUTES = [
    ("GET", "/api/v1/agent-profiles", "agents:read"),
    ("POST", "/api/v1/agent-profiles", "agents:write"),
    ("GET", "/api/v1/agent-profiles/default", "agents:read"),
    ("PUT", "/api/v1/agent-profiles/default", "agents:write"),
    ("PATCH", "/api/v1/agent-profiles/default", "agents:write"),
    ("DELETE", "/api/v1/agent-profiles/x", "agents:write"),
    ("GET", "/api/v1/settings/system-prompt", "agents:read"),
    ("PUT", "/api/v1/settings/system-prompt", "agents:write"),
    ("DELETE", "/api/v1/settings/system-prompt", "agents:write"),
    ("GET", "/api/v1/settings/system-prompt/default", "agents:read"),
    ("GET", "/api/v1/voices", "agents:read"),
    ("GET", "/api/v1/voices/v/preview", "agents:read"),
    ("GET", "/api/v1/meetings", "meetings:read"),
    ("GET", "/api/v1/meetings/m", "meetings:read"),
    ("PATCH", "/api/v1/meetings/m", "meetings:write"),
    ("GET", f"/api/v1/calls/{uuid.uuid4()}/conversation", "calls:read"),
    ("GET", f"/api/v1/calls/{uuid.uuid4()}/transcript", "calls:read"),
    ("GET", f"/api/v1/calls/{uuid.uuid4()}/recording", "calls:read"),
]
GOOD_BODIES = {"/api/v1/agent-profiles": {"name": "x"}, "/api/v1/settings/system-prompt": {"prompt": "Hi"}}


@pytest.mark.parametrize(("method", "path", "scope"), ROUTES)
async def test_each_route_needs_its_scope_at_the_gateway(
    database_url: str, sessions: SessionFactory, method: str, path: str, scope: str
) -> None:
    seen: list[httpx.Request] = []

    def agent(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    everything_else = {"agents:read", "agents:write", "meetings:read", "meetings:write", "calls:read"} - {
        scope
    }
    await add_user(sessions, "without", PASSWORD, everything_else)
    await add_user(sessions, "with", PASSWORD, [scope])
    body = GOOD_BODIES.get(path, {"status": "cancelled"} if "meetings" in path else {})
    async with gateway_to(database_url, httpx.MockTransport(agent)) as client:
        refused = await client.request(
            method, path, json=body, headers=bearer(await login(client, "without", PASSWORD))
        )
        anonymous = await client.request(method, path, json=body)
        assert seen == []
        allowed = await client.request(
            method, path, json=body, headers=bearer(await login(client, "with", PASSWORD))
        )
    assert refused.status_code == 403 and refused.json()["required_scope"] == scope
    assert anonymous.status_code == 401
    assert allowed.status_code == 200, allowed.text
    assert [(r.method, r.url.path) for r in seen] == [(method, path)]


async def test_an_unreachable_ai_agent_is_a_503_with_retry_after(
    database_url: str, sessions: SessionFactory
) -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    await add_user(sessions, "alice", PASSWORD, ["agents:read"])
    async with gateway_to(database_url, httpx.MockTransport(down)) as client:
        answer = await client.get(
            "/api/v1/agent-profiles", headers=bearer(await login(client, "alice", PASSWORD))
        )
    assert answer.status_code == 503 and answer.headers["retry-after"] == "2"
    assert answer.json()["code"] == "ai_agent_unavailable"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/v1/agent-profiles", {"name": "../x"}),
        ("POST", "/api/v1/agent-profiles", {"name": "x", "tools": ["launch_rockets"]}),
        ("PATCH", "/api/v1/agent-profiles/default", {"tools": None}),
        ("GET", "/api/v1/agent-profiles/-bad", None),
        ("PUT", "/api/v1/settings/system-prompt", {"prompt": ""}),
        ("GET", "/api/v1/voices?language=klingon-language", None),
        ("GET", "/api/v1/meetings?status=lost", None),
        ("PATCH", "/api/v1/meetings/m", {"status": "postponed"}),
        ("GET", "/api/v1/calls/not-a-uuid/conversation", None),
        ("GET", f"/api/v1/calls/{uuid.uuid4()}/transcript?format=xml", None),
    ],
)
async def test_bad_input_is_refused_at_the_edge_without_reaching_the_ai_agent(
    database_url: str, sessions: SessionFactory, method: str, path: str, body: object
) -> None:
    seen: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda request: seen.append(request) or httpx.Response(500))
    await add_user(sessions, "alice", PASSWORD, ["admin"])
    async with gateway_to(database_url, transport) as client:
        headers = bearer(await login(client, "alice", PASSWORD))
        answer = await client.request(method, path, json=body, headers=headers)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert seen == []
