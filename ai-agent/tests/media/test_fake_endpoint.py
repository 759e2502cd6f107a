"""The fake media endpoint itself, spoken to with a plain WebSocket client: it must behave as Asterisk's
chan_websocket does, or the engine's tests over it prove nothing."""

from __future__ import annotations

import asyncio
import re

import websockets
from websockets.asyncio.client import ClientConnection

from ai_agent.media.testing import FRAME_BYTES, FakeMediaEndpoint


async def connect(endpoint: FakeMediaEndpoint) -> tuple[ClientConnection, str]:
    connection = await websockets.connect(endpoint.url, subprotocols=[websockets.Subprotocol("media")])
    first = await connection.recv()
    assert isinstance(first, str)
    return connection, first


async def next_text(connection: ClientConnection) -> str:
    async with asyncio.timeout(3):
        while True:
            message = await connection.recv()
            if isinstance(message, str):
                return message


async def test_media_start_comes_first(endpoint: FakeMediaEndpoint) -> None:
    connection, first = await connect(endpoint)
    assert re.fullmatch(
        r"MEDIA_START connection_id:\S+ channel:\S+ channel_id:\S+ format:slin16"
        r" optimal_frame_size:640 ptime:20",
        first,
    )
    assert connection.subprotocol == "media"
    await connection.close()


async def test_frames_are_played_one_every_20_ms(endpoint: FakeMediaEndpoint) -> None:
    connection, _ = await connect(endpoint)
    await connection.send(bytes(25 * FRAME_BYTES))  # one message of many frames is cut into frames
    async with asyncio.timeout(3):
        await endpoint.wait_played_out()
    span = endpoint.played[-1].at - endpoint.played[0].at
    assert len(endpoint.played) == 25
    assert 0.44 <= span <= 0.7
    await connection.close()


async def test_a_partial_frame_is_dropped(endpoint: FakeMediaEndpoint) -> None:
    connection, _ = await connect(endpoint)
    await connection.send(bytes(FRAME_BYTES + 100))
    await connection.send("REPORT_QUEUE_DRAINED")
    assert await next_text(connection) == "QUEUE_DRAINED"
    assert (len(endpoint.played), endpoint.dropped_bytes) == (1, 100)
    await connection.close()


async def test_status_and_marks(endpoint: FakeMediaEndpoint) -> None:
    connection, _ = await connect(endpoint)
    await connection.send(bytes(10 * FRAME_BYTES))
    await connection.send("MARK_MEDIA correlation_id:m1")
    await connection.send("GET_STATUS")
    status = await next_text(connection)
    assert re.fullmatch(
        r"STATUS channel_id:\S+ queue_length:\d+ xon_level:800 xoff_level:900 queue_full:false"
        r" bulk_media:false media_paused:false",
        status,
    )
    assert await next_text(connection) == "MEDIA_MARK_PROCESSED correlation_id:m1"
    assert len(endpoint.played) == 10
    await connection.close()


async def test_an_oversized_message_ends_the_call(endpoint: FakeMediaEndpoint) -> None:
    connection, _ = await connect(endpoint)
    await connection.send(bytes(66_000))
    async with asyncio.timeout(3):
        await connection.wait_closed()
    assert endpoint.played == []
