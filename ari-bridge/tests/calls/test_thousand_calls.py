"""1,000 concurrent answered calls, hung up by command, are all tracked to completion; none is lost."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx
import pytest
from sqlalchemy import text

from ari_bridge.settings import TrunkConfig
from ari_bridge.testing import hangup_command, originate_command, running_bridge
from dialplane.calls import CallStatus
from dialplane.db import SessionFactory, transaction
from dialplane.events import PostgresEventStream
from dialplane.testing.asterisk import AsteriskInfo

pytestmark = [pytest.mark.asterisk, pytest.mark.timeout(300)]

CALLS = 1000


async def statuses(sessions: SessionFactory, prefix: str) -> dict[str, int]:
    query = text("SELECT status, count(*) FROM bridge_calls WHERE call_id LIKE :prefix GROUP BY status")
    async with transaction(sessions) as session:
        return {row[0]: row[1] for row in (await session.execute(query, {"prefix": f"{prefix}%"})).all()}


async def wait_all(sessions: SessionFactory, prefix: str, status: CallStatus, within: float) -> float:
    started = time.monotonic()
    async with asyncio.timeout(within):
        while (await statuses(sessions, prefix)).get(status.value, 0) < CALLS:
            await asyncio.sleep(0.25)
    return time.monotonic() - started


async def test_a_thousand_concurrent_answered_calls_are_all_tracked_to_completion(
    database_url: str, asterisk: AsteriskInfo, sessions: SessionFactory, event_stream: PostgresEventStream
) -> None:
    trunk = TrunkConfig(
        name="wide", dial_string="Local/{number}@test-carrier", max_concurrent=CALLS, max_cps=500
    )
    prefix = f"load-{uuid.uuid4().hex[:6]}-"  # leftovers of an interrupted run cannot collide
    try:
        async with running_bridge(
            database_url, asterisk, sessions, event_stream, trunks=[trunk], default_trunk="wide"
        ) as bridge:
            call_ids = [f"{prefix}{n:04d}" for n in range(CALLS)]
            for start in range(0, CALLS, 100):
                await bridge.send(
                    *(originate_command(call_id, "+12025550104") for call_id in call_ids[start : start + 100])
                )
            answered_in = await wait_all(sessions, prefix, CallStatus.ANSWERED, within=150)
            for start in range(0, CALLS, 100):
                await bridge.send(*(hangup_command(call_id) for call_id in call_ids[start : start + 100]))
            await wait_all(sessions, prefix, CallStatus.COMPLETED, within=120)
            dialings = await _count_events(sessions, "call.dialing", prefix)
    finally:
        await hang_up_leftovers(asterisk, prefix)
    assert await statuses(sessions, prefix) == {"completed": CALLS}
    assert dialings == CALLS  # each call dialed exactly once
    assert answered_in < 150


async def _count_events(sessions: SessionFactory, event_type: str, prefix: str) -> int:
    query = text("SELECT count(*) FROM events WHERE type = :type AND key LIKE :prefix")
    async with transaction(sessions) as session:
        return int(await session.scalar(query, {"type": event_type, "prefix": f"{prefix}%"}) or 0)


async def hang_up_leftovers(asterisk: AsteriskInfo, prefix: str) -> None:
    """After a failure, do not leave up to 1,000 channels up for 10 minutes."""
    async with httpx.AsyncClient(
        base_url=asterisk.ari_url, auth=(asterisk.username, asterisk.password)
    ) as ari:
        for channel in (await ari.get("/channels")).json():
            if channel["id"].startswith(prefix):
                await ari.delete(f"/channels/{channel['id']}")
