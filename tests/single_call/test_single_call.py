"""A client's first steps, end to end on real Asterisk: get a token, place a call through the gateway and
follow it — by polling, on the live event stream and through signed status callbacks."""

from __future__ import annotations

import asyncio
import json

import pytest
from e2e import FINAL, Stack, live_events

from dialer.policy import do_not_call
from dialplane.db import transaction

pytestmark = [pytest.mark.asterisk, pytest.mark.timeout(120)]

ANSWERED_CALL = ["queued", "dialing", "answered", "completed"]


async def test_a_call_is_followed_to_completed_by_polling_live_events_and_webhooks(stack: Stack) -> None:
    auth = await stack.token()
    callback = stack.receiver.answer("status")
    async with live_events(stack.gateway, auth) as live:
        created = await stack.gateway.post(
            "/api/v1/calls",
            headers=auth,
            json={"to": "+1 202 555 0100", "status_callback": callback, "metadata": {"order": 7}},
        )
        assert created.status_code == 201, created.text
        call_id = created.json()["id"]
        assert created.json()["status"] == "queued" and created.json()["to"] == "+12025550100"
        assert await live.wait_until_final(call_id) == ANSWERED_CALL

    call = await stack.wait_for_status(auth, call_id, *FINAL)
    assert (call["status"], call["hangup_cause"], call["is_completed"]) == ("completed", 16, True)
    assert call["answered_at"] and call["ended_at"] and 2.0 < call["duration"] < 10.0
    assert call["metadata"] == {"order": 7}

    timeline = (await stack.gateway.get(f"/api/v1/calls/{call_id}/events", headers=auth)).json()
    assert [entry["status"] for entry in timeline["items"]] == ANSWERED_CALL

    deliveries = await stack.receiver.wait_for(4, "status", within=10)
    assert all(d.signature_valid for d in deliveries)
    assert [d.event_type for d in deliveries] == [f"call.{status}" for status in ANSWERED_CALL]
    assert json.loads(deliveries[-1].body)["call"]["status"] == "completed"


@pytest.mark.parametrize(("number", "status"), [("+12025550101", "busy"), ("+12025550102", "no_answer")])
async def test_busy_and_unanswered_numbers_end_with_their_status(
    stack: Stack, number: str, status: str
) -> None:
    auth = await stack.token()
    created = await stack.gateway.post("/api/v1/calls", headers=auth, json={"to": number, "timeout": 15})
    assert created.status_code == 201, created.text
    call = await stack.wait_for_status(auth, created.json()["id"], *FINAL, within=40)
    assert call["status"] == status
    assert call["answered_at"] is None and call["failure_reason"]


async def test_a_call_is_hung_up_mid_call_on_request(stack: Stack) -> None:
    auth = await stack.token()
    call_id, other_id = [
        (await stack.gateway.post("/api/v1/calls", headers=auth, json={"to": "+12025550104"})).json()["id"]
        for _ in range(2)
    ]
    await stack.wait_for_status(auth, call_id, "answered")
    await stack.wait_for_status(auth, other_id, "answered")
    async with live_events(stack.gateway, auth, call_id=call_id) as live:
        for target in (other_id, call_id):
            hangup = await stack.gateway.post(f"/api/v1/calls/{target}/hangup", headers=auth)
            assert hangup.status_code == 202, hangup.text
        assert await live.wait_until_final(call_id) == ["completed"]
        await stack.wait_for_status(auth, other_id, *FINAL)
    call = await stack.wait_for_status(auth, call_id, *FINAL)
    assert call["status"] == "completed" and call["hangup_cause"] == 16
    assert {event["call_id"] for event in live.events} == {call_id}  # the other call's end was not sent
    again = await stack.gateway.post(f"/api/v1/calls/{call_id}/hangup", headers=auth)
    assert again.status_code == 409 and again.headers["content-type"] == "application/problem+json"


async def test_an_idempotency_key_replays_the_first_call_through_the_gateway(stack: Stack) -> None:
    auth = await stack.token()
    headers = {**auth, "Idempotency-Key": "order-42"}
    body = {"to": "+12025550100"}
    first, second = await asyncio.gather(
        stack.gateway.post("/api/v1/calls", headers=headers, json=body),
        stack.gateway.post("/api/v1/calls", headers=headers, json=body),
    )
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    other = await stack.gateway.post("/api/v1/calls", headers=headers, json={"to": "+12025550101"})
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    listed = (await stack.gateway.get("/api/v1/calls", headers=auth)).json()
    assert [call["id"] for call in listed["items"]] == [first.json()["id"]]


async def test_access_is_refused_without_a_token_or_the_scope(stack: Stack) -> None:
    anonymous = await stack.gateway.post("/api/v1/calls", json={"to": "+12025550100"})
    assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"].startswith("Bearer")
    reader = await stack.token("reader", scopes=["calls:read"])
    refused = await stack.gateway.post("/api/v1/calls", headers=reader, json={"to": "+12025550100"})
    assert refused.status_code == 403 and refused.json()["code"] == "insufficient_scope"
    assert (await stack.gateway.get("/api/v1/calls", headers=reader)).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"to": "+1202555CALL"}, "to"),
        ({"to": "+1202555010012345678901"}, "to"),
        ({"to": "+12025550100", "timeout": "soon"}, "timeout"),
        ({"to": "+12025550100", "agent": {}, "ivr": {"context": "x"}}, None),
        ({"to": "+12025550100", "status_callback": "ftp://example.com/x"}, "status_callback"),
    ],
)
async def test_malformed_calls_are_422_naming_the_field(
    stack: Stack, body: dict[str, object], field: str | None
) -> None:
    auth = await stack.token()
    answer = await stack.gateway.post("/api/v1/calls", headers=auth, json=body)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    if field is not None:
        assert field in json.dumps(answer.json()["errors"])


async def test_a_number_on_the_do_not_call_list_is_refused_and_recorded(stack: Stack) -> None:
    async with transaction(stack.sessions) as session:
        await do_not_call.add(session, "+12025550100", reason="asked not to be called")
    auth = await stack.token()
    refused = await stack.gateway.post("/api/v1/calls", headers=auth, json={"to": "+12025550100"})
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert (problem["code"], problem["rule"]) == ("call_refused", "do_not_call")
    recorded = await stack.gateway.get(f"/api/v1/calls/{problem['call_id']}", headers=auth)
    assert recorded.json()["status"] == "failed" and "do-not-call" in recorded.json()["failure_reason"]


async def test_the_compatibility_endpoints_place_an_ivr_call_and_report_it(stack: Stack) -> None:
    auth = await stack.token()
    placed = await stack.gateway.post(
        "/api/v1/interaction/+12025550104",
        headers=auth,
        json={"context": "dialplane-ivr-demo", "extension": "s", "priority": 1},
    )
    assert placed.status_code == 200, placed.text
    assert set(placed.json()) == {
        "success", "call_id", "phone_number", "message", "channel", "status", "created_at"
    }  # fmt: skip
    call_id = placed.json()["call_id"]
    # +12025550104 stays on the line: only the IVR (a message, then hang-up) ends the call by itself
    async with asyncio.timeout(30):
        while True:
            status = await stack.gateway.get(f"/api/v1/status/{call_id}", headers=auth)
            if status.json()["is_completed"]:
                break
            await asyncio.sleep(0.2)
    legacy = status.json()
    assert set(legacy) == {
        "call_id", "phone_number", "status", "channel", "context", "extension", "caller_id", "created_at",
        "dialed_at", "answered_at", "ended_at", "duration", "failure_reason", "attempt_number",
        "is_active", "is_completed",
    }  # fmt: skip
    assert (legacy["status"], legacy["context"]) == ("completed", "dialplane-ivr-demo")
    assert legacy["channel"] == "Local/+12025550104@test-carrier"
