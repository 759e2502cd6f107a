"""The original single-call service's endpoints: same fields, an IVR call underneath."""

from __future__ import annotations

import uuid

import httpx
import pytest

from dialer.testing import bridge_commands, publish_bridge_event, wait_for_call
from dialplane.calls import CallStatus
from dialplane.db import SessionFactory
from dialplane.events import PostgresEventStream

INTERACTION_FIELDS = {"success", "call_id", "phone_number", "message", "channel", "status", "created_at"}
STATUS_FIELDS = {
    "call_id", "phone_number", "status", "channel", "context", "extension", "caller_id", "created_at",
    "dialed_at", "answered_at", "ended_at", "duration", "failure_reason", "attempt_number", "is_active",
    "is_completed",
}  # fmt: skip


async def test_interaction_places_an_ivr_call_with_the_configured_defaults(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    response = await client.post("/api/v1/interaction/12025550100")

    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == INTERACTION_FIELDS
    assert body["success"] is True and body["status"] == "queued" and body["channel"] is None
    assert body["phone_number"] == "+12025550100"
    [(command, data)] = await bridge_commands(sessions, body["call_id"])
    assert command == "call.originate"
    assert data["dialplan"] == {"context": "dialplane-ivr-demo", "extension": "s", "priority": 1}
    assert data["ring_timeout_seconds"] == 30
    call = (await client.get(f"/api/v1/calls/{body['call_id']}")).json()
    assert call["mode"] == "ivr"


async def test_interaction_takes_its_body_and_a_timeout_in_milliseconds(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    body = {
        "context": "sales",
        "extension": "100",
        "priority": 3,
        "timeout": 20_500,
        "caller_id": "+12025550197",
    }
    response = await client.post("/api/v1/interaction/+12025550104", json=body)

    assert response.status_code == 200, response.text
    [(_, data)] = await bridge_commands(sessions, response.json()["call_id"])
    assert data["dialplan"] == {"context": "sales", "extension": "100", "priority": 3}
    assert data["ring_timeout_seconds"] == 21 and data["caller_id"] == "+12025550197"


async def test_status_has_the_original_fields_and_the_channel_once_known(
    client: httpx.AsyncClient, sessions: SessionFactory, event_stream: PostgresEventStream
) -> None:
    call_id = (await client.post("/api/v1/interaction/12025550100", json={"context": "ivr"})).json()[
        "call_id"
    ]
    before = (await client.get(f"/api/v1/status/{call_id}")).json()
    await publish_bridge_event(sessions, event_stream, call_id, CallStatus.DIALING, CallStatus.QUEUED)
    await wait_for_call(client, call_id, "dialing")
    after = (await client.get(f"/api/v1/status/{call_id}")).json()

    assert set(before) == STATUS_FIELDS
    assert before["channel"] is None and before["context"] == "ivr" and before["extension"] == "s"
    assert before["caller_id"] == "+12025550199" and before["attempt_number"] == 1
    assert after["channel"] == "Local/+12025550100@test-carrier"
    assert after["status"] == "dialing" and after["is_active"] and not after["is_completed"]


@pytest.mark.parametrize(
    ("number", "body", "field"),
    [
        ("1202555010a", None, "path.number"),
        ("12345678901234567", None, "number"),
        ("15555550100", None, "number"),
        ("12025550100", {"timeout": 5_000}, "timeout"),
        ("12025550100", {"timeout": 0}, "timeout"),
        ("12025550100", {"caller_id": "me"}, "caller_id"),
        ("12025550100", {"context": "a b"}, "context"),
        ("12025550100", {"priority": 0}, "priority"),
        ("12025550100", {"extra": 1}, "extra"),
    ],
)
async def test_interaction_errors_name_the_original_fields(
    client: httpx.AsyncClient, number: str, body: dict[str, object] | None, field: str
) -> None:
    response = await client.post(f"/api/v1/interaction/{number}", json=body)
    assert response.status_code == 422, response.text
    assert field in [error["field"] for error in response.json()["errors"]]


async def test_status_of_an_unknown_or_malformed_id(client: httpx.AsyncClient) -> None:
    assert (await client.get(f"/api/v1/status/{uuid.uuid4()}")).status_code == 404
    assert (await client.get("/api/v1/status/abc")).status_code == 422


async def test_a_refused_interaction_is_a_call_refused_problem(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    response = await client.post("/api/v1/interaction/18005550123")
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "call_refused" and response.json()["rule"] == "calling_hours"
    status = (await client.get(f"/api/v1/status/{response.json()['call_id']}")).json()
    assert status["status"] == "failed" and "calling hours" in status["failure_reason"]
    assert await bridge_commands(sessions, response.json()["call_id"]) == []
