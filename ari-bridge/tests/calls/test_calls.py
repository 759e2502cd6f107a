"""Calls placed and tracked by the bridge on the real Asterisk's test carrier."""

from __future__ import annotations

import asyncio
import time

import pytest

from ari_bridge.testing import Bridge, originate_command
from dialplane.calls import CallStatus

pytestmark = [pytest.mark.asterisk, pytest.mark.timeout(120)]

S = CallStatus
TERMINAL = (S.COMPLETED, S.BUSY, S.NO_ANSWER, S.FAILED, S.CANCELED)


@pytest.mark.parametrize(
    ("number", "options", "status", "cause"),
    [
        ("+12025550100", {}, S.COMPLETED, 16),
        ("+12025550101", {}, S.BUSY, 17),
        ("+12025550102", {"ring_timeout_seconds": 2}, S.NO_ANSWER, 19),
        ("+12025550103", {}, S.FAILED, 34),
        ("+12025550199", {}, S.FAILED, 1),
    ],
)
async def test_each_test_carrier_number_ends_with_its_status_and_cause(
    bridge: Bridge, number: str, options: dict[str, object], status: CallStatus, cause: int
) -> None:
    call_id = await bridge.originate(number, **options)
    call = await bridge.wait_for(call_id, *TERMINAL)
    assert (call.status, call.hangup_cause) == (status, cause)
    assert call.dialed_at is not None and call.ended_at is not None
    assert (call.failure_reason is None) == (status == S.COMPLETED)
    events = await bridge.event_types(call_id)
    assert events[0] == "call.dialing" and events[-1] == status.event_type
    assert ("call.answered" in events) == (status == S.COMPLETED)


async def test_a_ringing_call_passes_through_ringing(bridge: Bridge) -> None:
    call_id = await bridge.originate("+12025550102", ring_timeout_seconds=2)
    await bridge.wait_for(call_id, *TERMINAL)
    assert await bridge.event_types(call_id) == ["call.dialing", "call.ringing", "call.no_answer"]


async def test_hangup_on_command_mid_call_completes_the_call(bridge: Bridge) -> None:
    call_id = await bridge.originate("+12025550104")
    await bridge.wait_for(call_id, S.ANSWERED)
    await bridge.hangup(call_id)
    call = await bridge.wait_for(call_id, *TERMINAL, within=10)
    assert call.status == S.COMPLETED
    assert call.answered_at is not None and call.ended_at is not None


async def test_hangup_before_answer_cancels_the_call(bridge: Bridge) -> None:
    call_id = await bridge.originate("+12025550102", ring_timeout_seconds=30)
    await bridge.wait_for(call_id, S.RINGING)
    await bridge.hangup(call_id)
    call = await bridge.wait_for(call_id, *TERMINAL, within=10)
    assert call.status == S.CANCELED


async def test_the_same_originate_command_delivered_twice_dials_once(bridge: Bridge) -> None:
    call_id = "duplicate-originate-1"
    command = originate_command(call_id, "+12025550100")
    await bridge.send(command, command)
    await bridge.wait_for(call_id, *TERMINAL)
    await asyncio.sleep(0.5)
    events = await bridge.event_types(call_id)
    assert events.count("call.dialing") == 1
    assert events[-1] == "call.completed"


async def test_a_call_is_hung_up_at_its_maximum_duration(bridge: Bridge) -> None:
    call_id = await bridge.originate("+12025550104", max_duration_seconds=2)
    answered = await bridge.wait_for(call_id, S.ANSWERED)
    call = await bridge.wait_for(call_id, *TERMINAL, within=10)
    assert call.status == S.COMPLETED
    assert call.ended_at is not None and answered.answered_at is not None
    assert 1.9 <= (call.ended_at - answered.answered_at).total_seconds() <= 4


async def test_an_unknown_trunk_fails_the_call_with_a_reason(bridge: Bridge) -> None:
    call_id = await bridge.originate("+12025550100", trunk="nowhere")
    call = await bridge.wait_for(call_id, *TERMINAL)
    assert call.status == S.FAILED
    assert call.failure_reason == "unknown trunk 'nowhere'"


async def test_nodes_report_their_connection_and_load(bridge: Bridge) -> None:
    started = time.monotonic()
    call_id = await bridge.originate("+12025550104")
    await bridge.wait_for(call_id, S.ANSWERED)
    nodes = (await bridge.client.get("/nodes")).json()
    live = (await bridge.client.get(f"/calls/{call_id}")).json()
    await bridge.hangup(call_id)
    await bridge.wait_for(call_id, *TERMINAL)
    assert nodes == [
        {
            "name": "local",
            "driven": True,
            "connected": True,
            "last_error": None,
            "active": 1,
            "max_channels": 1000,
        }
    ]
    assert (
        live["status"] == "answered" and live["channel"]["id"] == call_id and live["channel"]["state"] == "Up"
    )
    assert time.monotonic() - started < 30
    missing = await bridge.client.get("/calls/no-such-call")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
