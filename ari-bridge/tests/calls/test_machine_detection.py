"""Answering-machine detection on the real Asterisk's test carrier: who answered is known when the call is
answered, and every tracking event (down to ChannelDestroyed with its cause) still arrives."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import text

from ari_bridge.calls.repository import BridgeCall
from ari_bridge.testing import Bridge
from dialplane.calls import CallStatus
from dialplane.db import transaction

pytestmark = [pytest.mark.asterisk, pytest.mark.timeout(120)]

S = CallStatus
TERMINAL = (S.COMPLETED, S.BUSY, S.NO_ANSWER, S.FAILED, S.CANCELED)
ANSWERED_AND_COMPLETED = ["call.dialing", "call.answered", "call.completed"]


async def answered_event(bridge: Bridge, call_id: str) -> dict[str, Any]:
    query = text("SELECT data FROM events WHERE stream = 'calls' AND key = :key AND type = 'call.answered'")
    async with transaction(bridge.sessions) as session:
        data: dict[str, Any] = (await session.execute(query, {"key": call_id})).scalar_one()
    return data


@pytest.mark.parametrize(
    ("number", "answered_by"),
    [("+12025550105", "machine"), ("+12025550111", "human"), ("+12025550104", "unknown")],
)
async def test_machine_detection_says_who_answered(bridge: Bridge, number: str, answered_by: str) -> None:
    call_id = await bridge.originate(number, machine_detection=True)
    answered = await bridge.wait_for(call_id, S.ANSWERED, *TERMINAL, within=20)
    await bridge.hangup(call_id)
    call = await bridge.wait_for(call_id, *TERMINAL, within=10)
    assert (answered.status, answered.answered_by) == (S.ANSWERED, answered_by)
    assert (call.status, call.hangup_cause, call.answered_by) == (S.COMPLETED, 16, answered_by)
    assert await bridge.event_types(call_id) == ANSWERED_AND_COMPLETED
    assert (await answered_event(bridge, call_id))["answered_by"] == answered_by
    # answered_at is when the far end answered (at once on the test carrier), not when AMD decided
    assert answered.answered_at is not None and answered.dialed_at is not None
    assert (answered.answered_at - answered.dialed_at).total_seconds() < 1.0


async def test_a_call_that_ends_during_detection_is_answered_by_unknown_and_completed(bridge: Bridge) -> None:
    call_id = await bridge.originate("+12025550104", machine_detection=True)  # silence: AMD takes ~5 s
    detecting = await wait_until_answered_at(bridge, call_id)
    await bridge.hangup(call_id)
    call = await bridge.wait_for(call_id, *TERMINAL, within=10)
    assert detecting.status in (S.DIALING, S.RINGING)
    assert (call.status, call.hangup_cause, call.answered_by) == (S.COMPLETED, 16, "unknown")
    assert call.answered_at == detecting.answered_at
    assert await bridge.event_types(call_id) == ANSWERED_AND_COMPLETED


async def test_without_machine_detection_answered_by_stays_null(bridge: Bridge) -> None:
    call_id = await bridge.originate("+12025550104")
    answered = await bridge.wait_for(call_id, S.ANSWERED, *TERMINAL)
    await bridge.hangup(call_id)
    call = await bridge.wait_for(call_id, *TERMINAL, within=10)
    assert answered.status == S.ANSWERED and call.status == S.COMPLETED
    assert answered.answered_by is None and call.answered_by is None
    assert (await answered_event(bridge, call_id)).get("answered_by") is None
    assert await bridge.event_types(call_id) == ANSWERED_AND_COMPLETED


async def wait_until_answered_at(bridge: Bridge, call_id: str) -> BridgeCall:
    """The call once the far end has answered and detection has started (``answered_at`` is set)."""
    async with asyncio.timeout(10):
        while True:
            call = await bridge.call(call_id)
            if call is not None and call.answered_at is not None:
                return call
            await asyncio.sleep(0.05)
