"""Faults: Asterisk restarted under the bridge mid-call; the bridge killed (SIGKILL) with calls up and started
again. Nothing is dialed twice, live calls are re-adopted, lost calls end with a reason."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from ari_bridge.calls.reconcile import VANISHED
from ari_bridge.testing import Bridge, running_bridge, wait_ready
from dialplane.calls import CallStatus
from dialplane.db import SessionFactory, transaction
from dialplane.events import PostgresEventStream
from dialplane.testing.asterisk import AsteriskInfo, repository_root

pytestmark = [pytest.mark.asterisk, pytest.mark.timeout(180)]

S = CallStatus
TERMINAL = (S.COMPLETED, S.BUSY, S.NO_ANSWER, S.FAILED, S.CANCELED)


async def local_sh(command: str) -> None:
    process = await asyncio.create_subprocess_exec(
        str(repository_root() / "asterisk" / "local.sh"),
        command,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert await process.wait() == 0, f"asterisk/local.sh {command} failed"


async def ready_status(client: httpx.AsyncClient) -> int:
    return (await client.get("/ready")).status_code


async def test_asterisk_crashing_mid_call_ends_the_lost_call_with_a_reason(
    database_url: str, asterisk: AsteriskInfo, sessions: SessionFactory, event_stream: PostgresEventStream
) -> None:
    async with running_bridge(database_url, asterisk, sessions, event_stream) as bridge:
        call_id = await bridge.originate("+12025550104")
        await bridge.wait_for(call_id, S.ANSWERED)
        await local_sh("crash")  # no hangup events: the bridge must find out by reconciling
        try:
            not_ready = await ready_status(bridge.client)
            ready_while_down = (await bridge.client.get("/ready")).json()["checks"]["asterisk:local"]
        finally:
            await local_sh("start")
        await wait_ready(bridge.client, within=30)
        call = await bridge.wait_for(call_id, *TERMINAL, within=15)
        after = await bridge.originate("+12025550100")  # and it places calls again
        after_call = await bridge.wait_for(after, *TERMINAL)
    assert not_ready == 503 and ready_while_down != "ok"
    assert (call.status, call.failure_reason) == (S.FAILED, VANISHED)
    assert after_call.status == S.COMPLETED


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


class BridgeProcess:
    """``python -m ari_bridge`` as its own process, so it can be killed for real."""

    def __init__(self, database_url: str, asterisk: AsteriskInfo, app: str, log: Path) -> None:
        self.port = free_port()
        node = {
            "name": "local",
            "ari_url": asterisk.ari_url,
            "username": asterisk.username,
            "password": asterisk.password,
            "app": app,
        }
        self.env = {
            **os.environ,
            "DIALPLANE_DATABASE_URL": database_url,
            "DIALPLANE_ENVIRONMENT": "development",
            "DIALPLANE_EVENT_POLL_INTERVAL_SECONDS": "0.2",
            "ARI_BRIDGE_PORT": str(self.port),
            "ARI_BRIDGE_NODES": json.dumps([node]),
            "DIALPLANE_LOG_JSON": "true",
        }
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(  # noqa: ASYNC220 -- starting a child process is instant
                [sys.executable, "-m", "ari_bridge"], env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{self.port}") as client:
            async with asyncio.timeout(30):
                while True:
                    try:
                        if await ready_status(client) == 200:
                            return
                    except httpx.TransportError:
                        pass
                    await asyncio.sleep(0.1)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)


@pytest.fixture
async def bridge_processes(
    database_url: str, asterisk: AsteriskInfo, tmp_path: Path
) -> AsyncIterator[tuple[BridgeProcess, BridgeProcess]]:
    app = f"bridge-kill-{uuid.uuid4().hex[:8]}"
    first = BridgeProcess(database_url, asterisk, app, tmp_path / "first.log")
    second = BridgeProcess(database_url, asterisk, app, tmp_path / "second.log")
    try:
        yield first, second
    finally:
        first.stop()
        second.stop()


async def test_a_killed_bridge_restarts_without_redialing_and_readopts_live_calls(
    sessions: SessionFactory,
    event_stream: PostgresEventStream,
    bridge_processes: tuple[BridgeProcess, BridgeProcess],
) -> None:
    first, second = bridge_processes
    async with httpx.AsyncClient() as unused_client:
        driver = Bridge(unused_client, sessions, event_stream)  # sends commands; the processes handle them
        await kill_and_restart(driver, first, second, sessions)


async def kill_and_restart(
    driver: Bridge, first: BridgeProcess, second: BridgeProcess, sessions: SessionFactory
) -> None:
    await first.start()
    live = [await driver.originate("+12025550104", call_id=f"kill-live-{n}") for n in range(5)]
    short = [await driver.originate("+12025550100", call_id=f"kill-short-{n}") for n in range(2)]
    for call_id in live + short:
        await driver.wait_for(call_id, S.ANSWERED)
    first.kill()
    queued_meanwhile = await driver.originate("+12025550101", call_id="kill-queued")
    await asyncio.sleep(4)  # the short calls end while no bridge is listening
    await second.start()
    for call_id in live:
        await driver.hangup(call_id)
    ends = {
        call_id: await driver.wait_for(call_id, *TERMINAL) for call_id in [*live, *short, queued_meanwhile]
    }
    dialed = await dial_counts(sessions)

    assert {ends[c].status for c in live} == {S.COMPLETED}  # re-adopted, then hung up by command
    assert {(ends[c].status, ends[c].failure_reason) for c in short} == {(S.FAILED, VANISHED)}
    assert ends[queued_meanwhile].status == S.BUSY  # the command waited for the new bridge
    assert set(dialed.values()) == {1} and len(dialed) == 8  # no call was dialed twice


async def dial_counts(sessions: SessionFactory) -> dict[str, int]:
    query = text("SELECT key, count(*) FROM events WHERE type = 'call.dialing' GROUP BY key")
    async with transaction(sessions) as session:
        return {row[0]: row[1] for row in (await session.execute(query)).all()}
