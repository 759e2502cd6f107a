"""IVR calls on the real Asterisk: once answered, the channel runs the given dialplan target, and the bridge
keeps tracking it there to the end."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from ari_bridge.testing import Bridge
from dialplane.calls import CallStatus
from dialplane.db import transaction

pytestmark = [pytest.mark.asterisk, pytest.mark.timeout(120)]

S = CallStatus
TERMINAL = (S.COMPLETED, S.BUSY, S.NO_ANSWER, S.FAILED, S.CANCELED)
IVR = {"context": "dialplane-ivr-demo", "extension": "s", "priority": 1}


async def test_an_answered_ivr_call_runs_its_dialplan_and_is_tracked_to_the_end(bridge: Bridge) -> None:
    # +12025550104 stays on the line until we hang up: only the IVR (message, then Hangup(16)) ends it
    call_id = await bridge.originate("+12025550104", dialplan=IVR)
    call = await bridge.wait_for(call_id, *TERMINAL, within=20)
    assert (call.status, call.hangup_cause) == (S.COMPLETED, 16)
    assert call.answered_at is not None and call.ended_at is not None
    assert (call.ended_at - call.answered_at).total_seconds() > 1.0  # the message and the wait were played
    assert await bridge.event_types(call_id) == ["call.dialing", "call.answered", "call.completed"]


async def test_ivr_after_machine_detection_records_who_answered(bridge: Bridge) -> None:
    call_id = await bridge.originate("+12025550111", dialplan=IVR, machine_detection=True)
    call = await bridge.wait_for(call_id, *TERMINAL, within=30)
    assert (call.status, call.answered_by) == (S.COMPLETED, "human")


async def test_an_invalid_dialplan_target_is_refused_without_dialing(bridge: Bridge) -> None:
    call_id = await bridge.originate("+12025550104", dialplan={"context": "bad context; Hangup"})
    async with asyncio.timeout(10):  # the command is taken (and acknowledged as invalid)
        while await pending_commands(bridge, call_id):
            await asyncio.sleep(0.05)
    assert await bridge.call(call_id) is None  # nothing recorded, nothing dialed


async def pending_commands(bridge: Bridge, call_id: str) -> int:
    async with transaction(bridge.sessions) as session:
        query = text("SELECT count(*) FROM commands WHERE key = :key")
        return int((await session.execute(query, {"key": call_id})).scalar_one())
