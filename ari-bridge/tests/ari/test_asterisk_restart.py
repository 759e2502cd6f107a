"""AriEventSocket when Asterisk restarts under it: it notices, retries, reconnects by itself and calls
``on_connect`` again. Asterisk is started again at the end, whatever happens.

This module's name sorts before the other ARI tests on purpose: after an originate answered 409 (duplicate
channel id; test_client.py does one), Asterisk 22.10 takes about 16 s more to stop, so restarting first keeps
this test at about 5 s.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from prometheus_client import REGISTRY

from ari_bridge.ari import AriEvent, AriEventSocket
from dialplane.testing.asterisk import AsteriskInfo, run_local_sh

pytestmark = [pytest.mark.asterisk, pytest.mark.timeout(90)]


async def eventually(condition: Callable[[], bool], within: float) -> None:
    async with asyncio.timeout(within):
        while not condition():
            await asyncio.sleep(0.01)


def reconnects(node: str) -> float:
    return REGISTRY.get_sample_value("dialplane_ari_reconnects_total", {"node": node}) or 0.0


async def test_reconnects_by_itself_when_asterisk_restarts(ari_app: AsteriskInfo, node: str) -> None:
    connects = 0

    async def on_connect() -> None:
        nonlocal connects
        connects += 1

    async def on_event(event: AriEvent) -> None:
        pass

    socket = AriEventSocket(
        ari_app.ari_url,
        ari_app.app,
        ari_app.username,
        ari_app.password,
        node=node,
        on_event=on_event,
        on_connect=on_connect,
        ping_interval=1.0,
        ping_timeout=1.0,
    )
    task = asyncio.create_task(socket.run())
    try:
        await eventually(lambda: socket.connected, within=5)
        try:
            stopped = await asyncio.to_thread(run_local_sh, "stop")
            assert stopped.returncode == 0, stopped.stderr
            assert not socket.connected
            down_because = socket.last_error
        finally:
            started = await asyncio.to_thread(run_local_sh, "start")  # always leave Asterisk running
        assert started.returncode == 0, started.stderr
        await eventually(lambda: socket.connected, within=15)
        assert connects == 2  # on_connect again: the caller re-subscribes and reconciles there
    finally:
        await socket.stop()
    assert task.done()
    assert down_because is not None
    assert down_because.startswith(("connection lost", "connection refused at 127.0.0.1"))
    assert reconnects(node) >= 1
