"""One bridge, two real Asterisk nodes (two local instances): new calls are spread by free capacity; a node
that goes down stops receiving calls, its live calls end as failed with a reason that names it, and it takes
calls again once it is back; a node whose entity id is not the configured one is never used."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from ari_bridge.testing import Bridge, node_config, running_bridge, wait_ready
from dialplane.calls import CallStatus
from dialplane.db import SessionFactory
from dialplane.events import PostgresEventStream
from dialplane.testing.asterisk import AsteriskInfo, run_local_sh

pytestmark = pytest.mark.asterisk

LOST_AFTER_SECONDS = 3.0


@pytest_asyncio.fixture
async def two_node_bridge(
    database_url: str,
    asterisk: AsteriskInfo,
    second_asterisk: AsteriskInfo,
    sessions: SessionFactory,
    event_stream: PostgresEventStream,
) -> AsyncIterator[Bridge]:
    nodes = [node_config("first", asterisk), node_config("second", second_asterisk)]
    async with running_bridge(
        database_url,
        asterisk,
        sessions,
        event_stream,
        nodes=nodes,
        node_lost_after_seconds=LOST_AFTER_SECONDS,
    ) as bridge:
        yield bridge
    if run_local_sh("status", 2).returncode != 0:  # a failed test may leave the second node down
        run_local_sh("start", 2)


async def test_calls_spread_a_lost_node_ends_its_calls_and_takes_calls_again_when_back(
    two_node_bridge: Bridge,
) -> None:
    bridge = two_node_bridge
    before = await bridge.answered_calls(6)
    assert Counter(before.values()) == {"first": 3, "second": 3}  # least loaded first

    await asyncio.to_thread(run_local_sh, "crash", 2)
    on_second = [call_id for call_id, name in before.items() if name == "second"]
    for call_id in on_second:
        lost = await bridge.wait_for(call_id, CallStatus.FAILED, within=LOST_AFTER_SECONDS + 10)
        assert (
            lost.failure_reason is not None and "Asterisk node second was unreachable" in lost.failure_reason
        )
    for call_id in set(before) - set(on_second):
        assert (await bridge.call(call_id)).status == CallStatus.ANSWERED  # type: ignore[union-attr]
    ready = await bridge.client.get("/ready")
    assert ready.status_code == 503 and ready.json()["checks"]["asterisk:first"] == "ok"
    assert ready.json()["checks"]["asterisk:second"] != "ok"

    during = await bridge.answered_calls(2)
    assert set(during.values()) == {"first"}  # a node that is down gets no calls

    started = await asyncio.to_thread(run_local_sh, "start", 2)
    assert started.returncode == 0, started.stderr
    await wait_ready(bridge.client, within=45)  # the socket's backoff is at most 30 s
    after = await bridge.answered_calls(4)
    assert set(after.values()) == {"second"}  # 5 calls on the first node, none on the second
    nodes = {entry["name"]: entry for entry in (await bridge.client.get("/nodes")).json()}
    assert nodes["first"]["active"] == 5 and nodes["second"]["active"] == 4
    assert all(entry["connected"] for entry in nodes.values())

    await bridge.hang_up_all([*before, *during, *after])


async def test_a_node_with_another_entity_id_is_never_used(
    database_url: str,
    asterisk: AsteriskInfo,
    second_asterisk: AsteriskInfo,
    sessions: SessionFactory,
    event_stream: PostgresEventStream,
) -> None:
    nodes = [
        node_config("first", asterisk),
        node_config("second", second_asterisk, entity_id="02:00:00:00:00:99"),
    ]
    async with running_bridge(
        database_url, asterisk, sessions, event_stream, nodes=nodes, wait=False
    ) as bridge:
        await asyncio.sleep(2)  # the second node's socket connects, is refused, retries
        ready = (await bridge.client.get("/ready")).json()["checks"]
        assert ready["asterisk:first"] == "ok"
        assert "expected entity id 02:00:00:00:00:99" in ready["asterisk:second"]
        assert "02:00:00:00:00:02" in ready["asterisk:second"]  # what the node reported
        calls = await bridge.answered_calls(2)
        assert set(calls.values()) == {"first"}
        await bridge.hang_up_all(list(calls))
