"""Trunk limits hold under load, and a real SIP trunk (SIPp on loopback) ends calls with the SIP status."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from ari_bridge.settings import TrunkConfig
from ari_bridge.testing import STAYS_ON_THE_LINE, Bridge, running_bridge
from dialplane.calls import CallStatus
from dialplane.db import SessionFactory
from dialplane.events import PostgresEventStream
from dialplane.testing.asterisk import AsteriskInfo
from dialplane.testing.sipp import SippTrunks

pytestmark = [pytest.mark.asterisk, pytest.mark.timeout(180)]

S = CallStatus
TERMINAL = (S.COMPLETED, S.BUSY, S.NO_ANSWER, S.FAILED, S.CANCELED)
CARRIER = "Local/{number}@test-carrier"


@contextlib.asynccontextmanager
async def bridge_with(
    trunks: list[TrunkConfig],
    database_url: str,
    asterisk: AsteriskInfo,
    sessions: SessionFactory,
    event_stream: PostgresEventStream,
    **settings: Any,
) -> AsyncIterator[Bridge]:
    async with running_bridge(
        database_url,
        asterisk,
        sessions,
        event_stream,
        trunks=trunks,
        default_trunk=trunks[0].name,
        **settings,
    ) as bridge:
        yield bridge


async def peak_channels(asterisk: AsteriskInfo, ours: set[str], stop: asyncio.Event) -> int:
    """The most of our channels Asterisk held at once, sampled every 50 ms until ``stop``."""
    peak = 0
    auth = (asterisk.username, asterisk.password)
    async with httpx.AsyncClient(base_url=asterisk.ari_url, auth=auth) as ari:
        while not stop.is_set():
            channels = (await ari.get("/channels")).json()
            peak = max(peak, sum(1 for channel in channels if channel["id"] in ours))
            await asyncio.sleep(0.05)
    return peak


async def test_fifty_calls_on_a_trunk_limited_to_ten_never_hold_more_than_ten_channels(
    database_url: str, asterisk: AsteriskInfo, sessions: SessionFactory, event_stream: PostgresEventStream
) -> None:
    trunk = TrunkConfig(name="ten", dial_string=CARRIER, max_concurrent=10, max_cps=100)
    async with bridge_with([trunk], database_url, asterisk, sessions, event_stream) as bridge:
        call_ids = [f"limit-{n:02d}" for n in range(50)]
        stop = asyncio.Event()
        sampler = asyncio.create_task(peak_channels(asterisk, set(call_ids), stop))
        for call_id in call_ids:
            await bridge.originate("+12025550100", call_id=call_id)
        calls = [await bridge.wait_for(call_id, *TERMINAL, within=120) for call_id in call_ids]
        stop.set()
        peak = await sampler
    assert [c.status for c in calls] == [S.COMPLETED] * 50
    assert 8 <= peak <= 10


async def test_a_hangup_is_carried_out_while_more_calls_than_the_worker_takes_at_once_wait_for_the_trunk(
    database_url: str, asterisk: AsteriskInfo, sessions: SessionFactory, event_stream: PostgresEventStream
) -> None:
    trunk = TrunkConfig(name="one", dial_string=CARRIER, max_concurrent=1, max_cps=100)
    async with bridge_with(
        [trunk], database_url, asterisk, sessions, event_stream, worker_concurrency=2
    ) as bridge:
        [up] = await bridge.answered_calls(1)
        waiting = [await bridge.originate(STAYS_ON_THE_LINE, call_id=f"waits-{n}") for n in range(4)]
        for call_id in waiting:
            await bridge.wait_for(call_id, S.QUEUED)  # recorded, and waiting for the trunk

        await bridge.hangup(up)

        ended = await bridge.wait_for(up, *TERMINAL, within=10)
        assert ended.status == S.COMPLETED
        assert [call.status for call in await bridge.hang_up_all(waiting)] == [S.COMPLETED] * 4


async def test_a_calls_per_second_limit_is_honoured_within_ten_percent(
    database_url: str, asterisk: AsteriskInfo, sessions: SessionFactory, event_stream: PostgresEventStream
) -> None:
    trunk = TrunkConfig(name="five-per-second", dial_string=CARRIER, max_concurrent=100, max_cps=5)
    async with bridge_with([trunk], database_url, asterisk, sessions, event_stream) as bridge:
        call_ids = [await bridge.originate("+12025550101") for _ in range(21)]
        calls = [await bridge.wait_for(call_id, *TERMINAL) for call_id in call_ids]
    dialed = sorted(c.dialed_at for c in calls if c.dialed_at is not None)
    rate = (len(dialed) - 1) / (dialed[-1] - dialed[0]).total_seconds()
    # never over the limit (10 % for timestamp jitter); under it only as far as a loaded 2-core machine lags
    # (4.48/s seen in CI while the whole suite ran)
    assert 4.0 <= rate <= 5.5


async def test_a_sip_trunk_completes_an_answered_call_and_records_486_as_busy(
    database_url: str,
    asterisk: AsteriskInfo,
    sessions: SessionFactory,
    event_stream: PostgresEventStream,
    sipp: SippTrunks,
) -> None:
    trunks = [
        TrunkConfig(name="sip-answer", dial_string=f"PJSIP/{{number}}@{sipp.answer_endpoint}"),
        TrunkConfig(name="sip-busy", dial_string=f"PJSIP/{{number}}@{sipp.busy_endpoint}"),
    ]
    async with bridge_with(trunks, database_url, asterisk, sessions, event_stream) as bridge:
        answered_id = await bridge.originate("+12025550100", trunk="sip-answer")
        busy_id = await bridge.originate("+12025550100", trunk="sip-busy")
        await bridge.wait_for(answered_id, S.ANSWERED)
        await bridge.hangup(answered_id)
        answered = await bridge.wait_for(answered_id, *TERMINAL)
        busy = await bridge.wait_for(busy_id, *TERMINAL)
    assert (answered.status, answered.hangup_cause) == (S.COMPLETED, 16)
    assert (busy.status, busy.hangup_cause, busy.sip_code) == (S.BUSY, 17, 486)
    assert busy.failure_reason == "the line is busy"
