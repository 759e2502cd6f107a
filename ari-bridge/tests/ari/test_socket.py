"""AriEventSocket against the real Asterisk: delivery in order, bad credentials, an unreachable node, another
consumer taking the application, a failing on_connect. Asterisk restarting: test_asterisk_restart.py."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest
from prometheus_client import REGISTRY

from ari_bridge.ari import (
    AriClient,
    AriEvent,
    AriEventSocket,
    ChannelDestroyed,
    KeyedDispatcher,
    OnEvent,
    StasisStart,
)
from ari_bridge.ari.socket import REPLACED
from dialplane.testing.asterisk import AriTestClient, AsteriskInfo

pytestmark = pytest.mark.timeout(60)

HELD = "Local/+12025550104@test-carrier"  # answers and stays up until we hang up


class Recorder:
    def __init__(self) -> None:
        self.events: list[AriEvent] = []
        self.connects = 0

    async def on_event(self, event: AriEvent) -> None:
        self.events.append(event)

    async def on_connect(self) -> None:
        self.connects += 1

    def about(self, channel_id: str) -> list[AriEvent]:
        return [event for event in self.events if event.channel_id == channel_id]


def socket_for(
    info: AsteriskInfo, node: str, recorder: Recorder, on_event: OnEvent | None = None, **options: float
) -> AriEventSocket:
    return AriEventSocket(
        info.ari_url,
        info.app,
        info.username,
        info.password,
        node=node,
        on_event=on_event or recorder.on_event,
        on_connect=recorder.on_connect,
        **options,
    )


@asynccontextmanager
async def running(socket: AriEventSocket) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(socket.run())
    try:
        yield task
    finally:
        await socket.stop()
        assert task.done()


async def eventually(condition: Callable[[], bool], within: float = 5.0) -> None:
    async with asyncio.timeout(within):
        while not condition():
            await asyncio.sleep(0.01)


def sample(name: str, node: str) -> float:
    return REGISTRY.get_sample_value(name, {"node": node}) or 0.0


@pytest.mark.asterisk
async def test_delivers_a_calls_events_in_order(ari_app: AsteriskInfo, node: str) -> None:
    recorder = Recorder()
    dispatcher = KeyedDispatcher(recorder.on_event, name=node)
    await dispatcher.start()
    socket = socket_for(ari_app, node, recorder, on_event=dispatcher.put_event)
    channel_id = f"socket-{uuid.uuid4().hex[:12]}"
    async with running(socket), AriClient(ari_app.ari_url, ari_app.username, ari_app.password) as ari:
        await eventually(lambda: socket.connected)
        assert (recorder.connects, sample("dialplane_ari_connected", node)) == (1, 1)
        await ari.originate(endpoint=HELD, channel_id=channel_id, app=ari_app.app)
        await eventually(lambda: any(isinstance(e, StasisStart) for e in recorder.about(channel_id)))
        await ari.hangup(channel_id)
        await eventually(lambda: any(isinstance(e, ChannelDestroyed) for e in recorder.about(channel_id)))
    await dispatcher.stop()
    types = [event.type for event in recorder.about(channel_id)]
    assert types[0] == "Dial"
    assert types.index("StasisStart") < types.index("StasisEnd") < types.index("ChannelDestroyed")
    stamps = [event.timestamp for event in recorder.about(channel_id) if event.timestamp]
    assert len(stamps) == len(types)
    assert stamps == sorted(stamps)
    assert (socket.connected, socket.last_error, sample("dialplane_ari_connected", node)) == (False, None, 0)


@pytest.mark.asterisk
async def test_wrong_credentials_back_off(ari_app: AsteriskInfo, node: str) -> None:
    recorder = Recorder()
    socket = socket_for(dataclasses.replace(ari_app, password="wrong-secret"), node, recorder)
    async with running(socket):
        await asyncio.sleep(3)
        assert not socket.connected
        assert socket.last_error == "ARI refused the credentials (401)"
    assert 2 <= socket.attempts <= 12  # a handful of attempts in 3 s, not a tight loop
    assert sample("dialplane_ari_reconnects_total", node) == socket.attempts - 1
    assert recorder.connects == 0
    assert "wrong-secret" not in socket.url


async def test_unreachable_node_backs_off(unused_port: int, node: str) -> None:
    recorder = Recorder()
    info = AsteriskInfo(f"http://127.0.0.1:{unused_port}/ari", "user", "secret", "app", unused_port)
    socket = socket_for(info, node, recorder, backoff_initial=0.1)
    async with running(socket):
        await eventually(lambda: socket.attempts >= 2)
        assert socket.last_error == f"connection refused at 127.0.0.1:{unused_port}"
        assert not socket.connected


@pytest.mark.asterisk
async def test_another_consumer_takes_the_app_then_we_take_it_back(ari_app: AsteriskInfo, node: str) -> None:
    recorder = Recorder()
    socket = socket_for(ari_app, node, recorder, backoff_max=1.0)
    async with running(socket):
        await eventually(lambda: socket.connected)
        async with AriTestClient(ari_app) as other:
            await eventually(lambda: socket.last_error == REPLACED)
            replaced_at = time.monotonic()
            assert not socket.connected
            assert recorder.events[-1].type == "ApplicationReplaced"
            await other.wait_for("ApplicationReplaced", within=5)  # backoff_max later, we took it back
            assert time.monotonic() - replaced_at > 0.8
        await eventually(lambda: socket.connected and recorder.connects == 2)


@pytest.mark.asterisk
async def test_a_failing_on_connect_closes_and_retries(ari_app: AsteriskInfo, node: str) -> None:
    calls = 0

    async def reconcile_fails_once() -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("database down")

    socket = AriEventSocket(
        ari_app.ari_url,
        ari_app.app,
        ari_app.username,
        ari_app.password,
        node=node,
        on_event=Recorder().on_event,
        on_connect=reconcile_fails_once,
        backoff_initial=0.1,
    )
    async with running(socket):
        await eventually(lambda: socket.last_error is not None)
        assert socket.last_error == "on_connect failed: RuntimeError: database down"
        await eventually(lambda: calls == 2 and socket.connected)
        assert socket.last_error is None


async def silent_websocket_server(requests: list[str]) -> asyncio.Server:
    """Accepts the WebSocket handshake, then never answers again (a hung node)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = (await reader.readuntil(b"\r\n\r\n")).decode()
        requests.append(request)
        key = next(
            line.split(":", 1)[1].strip()
            for line in request.split("\r\n")
            if line.lower().startswith("sec-websocket-key")
        )
        accept = base64.b64encode(
            hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()
        )
        writer.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n"
        )
        await writer.drain()
        while await reader.read(4096):  # read (pings too) but never answer, until the client hangs up
            pass
        writer.close()

    return await asyncio.start_server(handle, "127.0.0.1", 0)


async def test_pings_detect_a_peer_that_stopped_answering(node: str) -> None:
    requests: list[str] = []
    server = await silent_websocket_server(requests)
    port = server.sockets[0].getsockname()[1]
    info = AsteriskInfo(f"http://127.0.0.1:{port}/ari", "user", "s3cret", "app", port)
    socket = socket_for(info, node, Recorder(), ping_interval=0.2, ping_timeout=0.2)
    async with running(socket):
        await eventually(lambda: socket.connected, within=2)
        await eventually(lambda: not socket.connected, within=5)  # ping + pong wait + close timeout (2 s)
        assert socket.last_error is not None and "keepalive ping timeout" in socket.last_error
    server.close()
    request_line, *headers = requests[0].split("\r\n")
    assert request_line == "GET /ari/events?app=app&subscribeAll=false HTTP/1.1"  # no api_key in the URL
    assert f"Authorization: Basic {base64.b64encode(b'user:s3cret').decode()}" in headers
