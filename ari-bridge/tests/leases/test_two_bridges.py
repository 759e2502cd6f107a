"""Two bridges, two real Asterisk nodes: each bridge drives one node; new calls from the shared queue land
on both; a hangup reaches the call whichever bridge takes the command; when one bridge stops, the other
takes its node over, adopts its live calls and can hang them up."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import text

from ari_bridge.settings import TEST_CARRIER
from ari_bridge.testing import Bridge, node_config, running_bridge
from dialplane.calls import CallStatus
from dialplane.db import SessionFactory, transaction
from dialplane.events import PostgresEventStream
from dialplane.testing.asterisk import AsteriskInfo

pytestmark = pytest.mark.asterisk

LEASES = {"node_lease_seconds": 3.0, "node_lease_renew_seconds": 0.5}


async def driven_by(bridge: Bridge) -> set[str]:
    return {node["name"] for node in (await bridge.client.get("/nodes")).json() if node["driven"]}


async def until_each_drives_one(*bridges: Bridge, within: float = 15.0) -> list[set[str]]:
    async with asyncio.timeout(within):
        while True:
            driven = [await driven_by(bridge) for bridge in bridges]
            if all(len(nodes) == 1 for nodes in driven) and len(set.union(*driven)) == len(bridges):
                return driven
            await asyncio.sleep(0.1)


async def reported_trunk_shares(sessions: SessionFactory, within: float) -> list[int]:
    """The bridges' rows for the test carrier in ``capacity_reports`` once they add up to its limit."""
    query = text("SELECT capacity FROM capacity_reports WHERE resource = 'trunk:test-carrier' ORDER BY 1")
    async with asyncio.timeout(within):
        while True:
            async with transaction(sessions) as session:
                shares = [int(row) for row in (await session.execute(query)).scalars()]
            if sum(shares) == TEST_CARRIER.max_concurrent:
                return shares
            await asyncio.sleep(0.05)


async def calls_on_both_nodes(bridge: Bridge, at_most: int = 20) -> dict[str, str]:
    """Answered calls from the shared queue until each node carries at least two (whichever bridge takes a
    command places it on the node it drives): call id -> node."""
    calls: dict[str, str] = {}
    while min(Counter(calls.values()).get(node, 0) for node in ("first", "second")) < 2:
        assert len(calls) < at_most, f"one bridge placed every call: {Counter(calls.values())}"
        calls |= await bridge.answered_calls(2)
    return calls


async def test_two_bridges_share_the_nodes_and_one_takes_over_when_the_other_stops(
    database_url: str,
    asterisk: AsteriskInfo,
    second_asterisk: AsteriskInfo,
    sessions: SessionFactory,
    event_stream: PostgresEventStream,
) -> None:
    options: dict[str, Any] = {
        "nodes": [node_config("first", asterisk), node_config("second", second_asterisk)],
        **LEASES,
    }
    setup = (database_url, asterisk, sessions, event_stream)
    async with running_bridge(*setup, wait=False, **options) as staying:
        async with running_bridge(*setup, wait=False, **options) as leaving:
            await until_each_drives_one(staying, leaving)
            # each reports half of the trunk (its share of the node channels) at once, not at the next round
            assert await reported_trunk_shares(sessions, within=1.0) == [500, 500]
            left_node = (await driven_by(leaving)).pop()
            calls = await calls_on_both_nodes(staying)
            first, second = (next(c for c, n in calls.items() if n == name) for name in ("first", "second"))
            ended = await staying.hang_up_all([first, second])  # one of the two is the other bridge's
            assert [call.status for call in ended] == [CallStatus.COMPLETED, CallStatus.COMPLETED]
        # the leaving bridge stopped cleanly: its lease went with it
        async with asyncio.timeout(5):
            while left_node not in await driven_by(staying):
                await asyncio.sleep(0.1)
        assert (await staying.client.get("/ready")).status_code == 200
        remaining = [call_id for call_id in calls if call_id not in (first, second)]
        for call_id in remaining:
            call = await staying.call(call_id)
            assert call is not None and call.status == CallStatus.ANSWERED  # adopted, not ended
        ended = await staying.hang_up_all(remaining)
        assert {call.status for call in ended} == {CallStatus.COMPLETED}
