"""A network fault between the ARI bridge and Asterisk: every packet to and from ARI's port (8088) is
dropped for 20 s, with two answered calls up. Asterisk stays up and the calls go on, but the bridge hears
nothing: it must notice by itself (the WebSocket's liveness ping), say it is not ready for as long as the
fault lasts, then reconnect on its own, become ready and reconcile: the call whose channel ended meanwhile
ends with a reason, the one still up is re-adopted (a hangup command ends it as ``completed``), and a new
call placed afterwards completes.

While the port is blocked the shared Asterisk's ARI is unreachable for everyone: run this under the
Asterisk lock (``flock /tmp/dialplane-asterisk.lock``). The rule is removed when the block ends, whatever
happens, and by :mod:`packet_drop`'s watchdog should this process die first.
"""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit

import httpx
import pytest
from packet_drop import dropping_packets, iptables_unusable

from ari_bridge.calls.reconcile import VANISHED
from ari_bridge.testing import Bridge, running_bridge
from dialplane.calls import CallStatus
from dialplane.db import SessionFactory
from dialplane.events import PostgresEventStream
from dialplane.testing.asterisk import AsteriskInfo

IPTABLES_UNUSABLE = iptables_unusable()
pytestmark = [
    pytest.mark.asterisk,
    pytest.mark.timeout(150),
    pytest.mark.skipif(IPTABLES_UNUSABLE is not None, reason=IPTABLES_UNUSABLE or ""),
]

S = CallStatus
TERMINAL = (S.COMPLETED, S.BUSY, S.NO_ANSWER, S.FAILED, S.CANCELED)
LIVE = "+12025550104"  # answers and stays on the line until hung up
SHORT = "+12025550100"  # answers, hangs up 3 s later (during the fault)
FAULT_SECONDS = 20.0
# Seconds from the first dropped packet until /ready says not ready: a ping every 5 s, 5 s for its pong,
# 2 s for the closing handshake, and slack for a busy machine (less than the fault: it must notice).
NOTICE_WITHIN = 17.0
# Seconds from the end of the fault until /ready says ready: the connection attempt in flight when the fault
# ends gets through at its next SYN retransmission, or the next one starts after a short backoff.
RECOVER_WITHIN = 25.0
NODE_CHECK = "asterisk:local"


def ari_port(asterisk: AsteriskInfo) -> int:
    parts = urlsplit(asterisk.ari_url)
    assert parts.hostname == "127.0.0.1" and parts.port is not None, asterisk.ari_url
    return parts.port


async def readiness(client: httpx.AsyncClient) -> tuple[int, str]:
    """``/ready``'s status code and what it says about the Asterisk node."""
    answer = await client.get("/ready")
    return answer.status_code, str(answer.json()["checks"][NODE_CHECK])


async def seconds_until_ready_is(client: httpx.AsyncClient, status: int, within: float) -> float:
    """How long until ``/ready`` answers ``status``; fails the test after ``within`` seconds."""
    started = time.monotonic()
    try:
        async with asyncio.timeout(within):
            while (await readiness(client))[0] != status:
                await asyncio.sleep(0.2)
    except TimeoutError:
        pytest.fail(f"/ready still not {status} after {within:g} s: {await readiness(client)}")
    return time.monotonic() - started


async def assert_not_ready_until(client: httpx.AsyncClient, fault_ends: float) -> None:
    """``/ready`` stays 503 until ``fault_ends``."""
    while time.monotonic() < fault_ends:
        status, said = await readiness(client)
        assert status == 503, f"ready during the network fault: {said}"
        await asyncio.sleep(0.5)


async def answered_call(bridge: Bridge, to: str) -> str:
    call_id = await bridge.originate(to)
    await bridge.wait_for(call_id, S.ANSWERED, within=15)
    return call_id


async def test_the_bridge_reconnects_and_reconciles_after_packets_to_ari_were_dropped(
    database_url: str, asterisk: AsteriskInfo, sessions: SessionFactory, event_stream: PostgresEventStream
) -> None:
    async with running_bridge(database_url, asterisk, sessions, event_stream) as bridge:
        live = await answered_call(bridge, LIVE)
        short = await answered_call(bridge, SHORT)
        async with dropping_packets(ari_port(asterisk), at_most=FAULT_SECONDS + 60):
            fault_ends = time.monotonic() + FAULT_SECONDS
            short_at_start = await bridge.call(short)
            noticed_after = await seconds_until_ready_is(bridge.client, 503, within=NOTICE_WITHIN)
            _, reason = await readiness(bridge.client)
            await assert_not_ready_until(bridge.client, fault_ends)
        ready_after = await seconds_until_ready_is(bridge.client, 200, within=RECOVER_WITHIN)
        ended_meanwhile = await bridge.wait_for(short, *TERMINAL, within=10)
        still_live = await bridge.call(live)
        await bridge.hangup(live)
        hung_up = await bridge.wait_for(live, *TERMINAL, within=15)
        after = await bridge.wait_for(await bridge.originate(SHORT), *TERMINAL, within=20)
    print(
        f"not ready {noticed_after:.1f} s into the fault ({reason!r});"
        f" ready again {ready_after:.1f} s after it ended"
    )
    assert short_at_start is not None and short_at_start.status == S.ANSWERED  # it ended during the fault
    assert "keepalive ping timeout" in reason  # noticed by the WebSocket's liveness ping
    assert (ended_meanwhile.status, ended_meanwhile.failure_reason) == (S.FAILED, VANISHED)
    assert still_live is not None and still_live.status == S.ANSWERED  # re-adopted, not ended
    assert hung_up.status == S.COMPLETED  # its hangup event reached the bridge: subscribed again
    assert after.status == S.COMPLETED
