"""Test support: a local stand-in for Asterisk's chan_websocket media endpoint, and a far end to script.

:class:`FakeMediaEndpoint` is a WebSocket server on 127.0.0.1 that speaks the protocol as Asterisk 22 does in
server mode (``ws://host:port/media/<connection id>``, subprotocol ``media``): ``MEDIA_START`` first, then
the far end's audio as 640-byte binary frames (20 ms of 16 kHz s16le), only while the far end makes sound.
The agent's binary messages are cut into frames (a remainder that does not fill a frame is dropped, a
message over 65 500 bytes ends the call), queued (at most 1000 frames: more are dropped) and played on the
endpoint's own 20 ms clock. ``FLUSH_MEDIA`` drops the queue and its marks, ``MARK_MEDIA`` is answered when
playback reaches it, ``HANGUP`` ends the call (what is still queued is never heard), ``GET_STATUS`` and
``REPORT_QUEUE_DRAINED`` are answered, and ``MEDIA_XOFF`` / ``MEDIA_XON`` are sent at the queue's
thresholds. The far end is scripted::

    async with serving_media_endpoint() as endpoint:
        media = await MediaSocket.connect(endpoint.url)
        await endpoint.say(speech("Hello?"))     # real time, 20 ms a frame
        await endpoint.silence(1.0)               # zero frames; frames=False: nothing at all
        await endpoint.press("9")                 # DTMF_END digit:9
        await endpoint.hang_up()
        endpoint.played                           # what the agent played, with monotonic times
        endpoint.commands                         # the text commands received, with times

There is no echo: the far end never hears the agent (as with a mixing bridge).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import subprocess
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from http import HTTPStatus

import websockets
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response

from ai_agent.audio.resample import resample
from ai_agent.audio.wav import read_wav
from ai_agent.media.socket import parse_notice

__all__ = [
    "FRAME_BYTES",
    "FRAME_SECONDS",
    "FakeMediaEndpoint",
    "PlayedFrame",
    "ReceivedCommand",
    "frames_of",
    "serving_media_endpoint",
    "speech",
]

SAMPLE_RATE = 16_000
FRAME_BYTES = 640  # 20 ms of slin16
FRAME_SECONDS = 0.02
MAX_MESSAGE_BYTES = 65_500
LATE_SECONDS = 0.1  # a clock further behind than this starts again from now instead of catching up


@dataclass(frozen=True, slots=True)
class PlayedFrame:
    """A frame of the agent's audio as the far end heard it; ``at`` is ``time.monotonic()``."""

    at: float
    pcm: bytes


@dataclass(frozen=True, slots=True)
class ReceivedCommand:
    """A text message from the client; ``at`` is ``time.monotonic()``."""

    at: float
    text: str

    @property
    def name(self) -> str:
        return self.text.partition(" ")[0]

    @property
    def fields(self) -> dict[str, str]:
        return parse_notice(self.text).fields


@dataclass(frozen=True, slots=True)
class _Mark:
    correlation_id: str


def frames_of(pcm: bytes) -> list[bytes]:
    """``pcm`` cut into 640-byte frames, the last one padded with silence."""
    padded = pcm + bytes(-len(pcm) % FRAME_BYTES)
    return [padded[i : i + FRAME_BYTES] for i in range(0, len(padded), FRAME_BYTES)]


@functools.cache
def speech(text: str, *, voice: str = "en-us+f3", speed_wpm: int = 175) -> bytes:
    """``text`` spoken by espeak-ng, as 16 kHz s16le (espeak-ng writes 22 050 Hz WAV)."""
    wav = subprocess.run(  # noqa: S603 (a fixed program, the text as one argument)
        ["espeak-ng", "-v", voice, "-s", str(speed_wpm), "--stdout", text],  # noqa: S607
        capture_output=True,
        check=True,
    ).stdout
    pcm, rate = read_wav(wav)
    return resample(pcm, rate, SAMPLE_RATE)


class _Clock:
    """Ticks every 20 ms on an absolute schedule (no drift), starting again if it fell far behind."""

    def __init__(self) -> None:
        self._next = time.monotonic()

    async def tick(self) -> None:
        self._next += FRAME_SECONDS
        delay = self._next - time.monotonic()
        if delay < -LATE_SECONDS:
            self._next = time.monotonic()
        await asyncio.sleep(max(0.0, delay))


class FakeMediaEndpoint:
    """One call's media endpoint (one connection at a time). Start it with :func:`serving_media_endpoint`."""

    def __init__(
        self,
        *,
        connection_id: str = "fake-media-connection",
        channel: str = "WebSocket/fake-media-connection/0x1",
        channel_id: str = "1700000000.1",
        media_format: str = "slin16",
        xoff_level: int = 900,
        xon_level: int = 800,
        max_frames: int = 1000,
    ) -> None:
        self.max_frames = max_frames
        self.connection_id, self.channel, self.channel_id = connection_id, channel, channel_id
        self.media_format, self.xoff_level, self.xon_level = media_format, xoff_level, xon_level
        self.port = 0
        self.played: list[PlayedFrame] = []  # the agent's frames, as they were played
        self.commands: list[ReceivedCommand] = []
        self.notices: list[tuple[float, str]] = []  # text messages sent to the client
        self.received_sizes: list[int] = []  # of every binary message from the client
        self.dropped_frames = 0  # sent while the queue was full: never heard
        self.dropped_bytes = 0  # remainders of messages that were not whole frames: never heard
        self.far_end: list[PlayedFrame] = []  # the far end's frames, when they were sent
        self.max_queue = 0  # the longest the queue got (frames)
        self.dropped_at_hangup: int | None = None  # frames still queued when HANGUP came
        self.subprotocol: str | None = None
        self.path: str | None = None
        self.connected = asyncio.Event()
        self.disconnected = asyncio.Event()
        self._queue: deque[bytes | _Mark] = deque()
        self._xoff = False
        self._report_drained = False
        self._connection: ServerConnection | None = None
        self._changed = asyncio.Event()  # set at every recorded change, for the waits below

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/media/{self.connection_id}"

    @property
    def queue_length(self) -> int:
        return sum(1 for item in self._queue if isinstance(item, bytes))

    # --- the far end --------------------------------------------------------------------------------------

    async def say(self, pcm: bytes) -> float:
        """Send ``pcm`` in 20 ms frames in real time; returns when the first frame was sent."""
        clock, started = _Clock(), time.monotonic()
        for frame in frames_of(pcm):
            await self._send(frame)
            self.far_end.append(PlayedFrame(time.monotonic(), frame))
            await clock.tick()
        return started

    async def silence(self, seconds: float, *, frames: bool = True) -> None:
        """``seconds`` of quiet: frames of zeros in real time, or (``frames=False``) nothing at all."""
        if frames:
            await self.say(bytes(round(seconds / FRAME_SECONDS) * FRAME_BYTES))
        else:
            await asyncio.sleep(seconds)

    async def press(self, digit: str) -> None:
        """The far end presses a key: Asterisk sends ``DTMF_END digit:…`` when it is released."""
        await self._notify(f"DTMF_END digit:{digit}")

    async def hang_up(self) -> None:
        """The far end hangs up: Asterisk closes the media WebSocket."""
        if self._connection is None:
            return
        await self._connection.close()
        await self.disconnected.wait()

    # --- what happened ------------------------------------------------------------------------------------

    def command_named(self, name: str) -> list[ReceivedCommand]:
        return [command for command in self.commands if command.name == name]

    def agent_audio(self, since: float = 0.0) -> bytes:
        return b"".join(frame.pcm for frame in self.played if frame.at >= since)

    @property
    def last_played_at(self) -> float | None:
        return self.played[-1].at if self.played else None

    def audio_stopped_after(self, since: float) -> float:
        """When the agent's audio that was playing at ``since`` stopped: its last frame before a pause of
        more than 100 ms (``since`` itself if nothing played after it)."""
        stopped = since
        for frame in self.played:
            if frame.at <= since:
                continue
            if frame.at - stopped > 0.1:
                break
            stopped = frame.at
        return stopped

    async def wait_for(self, name: str, *, count: int = 1) -> ReceivedCommand:
        """The ``count``-th command called ``name`` (e.g. ``"FLUSH_MEDIA"``), once it has come. Like the
        other waits, bound it with ``asyncio.timeout``."""
        while len(self.command_named(name)) < count:
            await self._wait_change()
        return self.command_named(name)[count - 1]

    async def wait_for_audio(self) -> float:
        """When the next frame of agent audio (after those played so far) was played (monotonic)."""
        seen = len(self.played)
        while len(self.played) <= seen:
            await self._wait_change()
        return self.played[seen].at

    async def wait_played_out(self) -> float:
        """Wait until agent audio has played and the queue is empty; when its last frame was played."""
        while not self.played or self.queue_length:
            await self._wait_change()
        return self.played[-1].at

    async def _wait_change(self) -> None:
        self._changed.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), 0.05)

    # --- the connection -----------------------------------------------------------------------------------

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        if request.path != f"/media/{self.connection_id}":
            return connection.respond(HTTPStatus.NOT_FOUND, "no such media connection\n")
        return None

    async def _handle(self, connection: ServerConnection) -> None:
        self._connection, self.subprotocol = connection, connection.subprotocol
        self.path = connection.request.path if connection.request else None
        self.connected.set()
        await self._notify(
            f"MEDIA_START connection_id:{self.connection_id} channel:{self.channel}"
            f" channel_id:{self.channel_id} format:{self.media_format}"
            f" optimal_frame_size:{FRAME_BYTES} ptime:20"
        )
        player = asyncio.create_task(self._play())
        try:
            async for message in connection:
                if isinstance(message, bytes):
                    await self._queue_frame(message)
                else:
                    await self._command(message)
        except websockets.ConnectionClosed:
            pass
        finally:
            player.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await player
            self.disconnected.set()
            self._changed.set()

    async def _queue_frame(self, message: bytes) -> None:
        self.received_sizes.append(len(message))
        if len(message) > MAX_MESSAGE_BYTES and self._connection is not None:
            await self._connection.close(1009, "message too big")
            return
        whole = len(message) - len(message) % FRAME_BYTES
        self.dropped_bytes += len(message) - whole
        for offset in range(0, whole, FRAME_BYTES):
            if self.queue_length >= self.max_frames:
                self.dropped_frames += 1
                continue
            self._queue.append(message[offset : offset + FRAME_BYTES])
        self.max_queue = max(self.max_queue, self.queue_length)
        if not self._xoff and self.queue_length >= self.xoff_level:
            self._xoff = True
            await self._notify("MEDIA_XOFF")
        self._changed.set()

    async def _command(self, text: str) -> None:
        command = ReceivedCommand(time.monotonic(), text)
        self.commands.append(command)
        self._changed.set()
        if command.name == "FLUSH_MEDIA":
            self._queue.clear()  # pending marks go too, never reported
            await self._after_dequeue()
        elif command.name == "MARK_MEDIA":
            self._queue.append(_Mark(command.fields.get("correlation_id", "")))
            await self._marks_reached()
        elif command.name == "HANGUP":
            self.dropped_at_hangup = self.queue_length
            self._queue.clear()
            if self._connection is not None:
                await self._connection.close()
        elif command.name == "GET_STATUS":
            await self._notify(
                f"STATUS channel_id:{self.channel_id} queue_length:{self.queue_length}"
                f" xon_level:{self.xon_level} xoff_level:{self.xoff_level}"
                f" queue_full:{str(self._xoff).lower()} bulk_media:false media_paused:false"
            )
        elif command.name == "REPORT_QUEUE_DRAINED":
            self._report_drained = True
            await self._after_dequeue()

    async def _play(self) -> None:
        """Asterisk's side of the queue: one frame every 20 ms while there are any."""
        clock = _Clock()
        while True:
            await clock.tick()
            if self._queue and isinstance(self._queue[0], bytes):
                frame = self._queue.popleft()
                assert isinstance(frame, bytes)
                self.played.append(PlayedFrame(time.monotonic(), frame))
                self._changed.set()
                await self._marks_reached()
                await self._after_dequeue()

    async def _marks_reached(self) -> None:
        while self._queue and isinstance(self._queue[0], _Mark):
            mark = self._queue.popleft()
            assert isinstance(mark, _Mark)
            await self._notify(f"MEDIA_MARK_PROCESSED correlation_id:{mark.correlation_id}")

    async def _after_dequeue(self) -> None:
        if self._xoff and self.queue_length <= self.xon_level:
            self._xoff = False
            await self._notify("MEDIA_XON")
        if self._report_drained and not self._queue:
            self._report_drained = False
            await self._notify("QUEUE_DRAINED")

    async def _notify(self, text: str) -> None:
        self.notices.append((time.monotonic(), text))
        await self._send(text)

    async def _send(self, message: bytes | str) -> None:
        if self._connection is not None:
            with contextlib.suppress(websockets.ConnectionClosed):
                await self._connection.send(message)


@asynccontextmanager
async def serving_media_endpoint(
    *,
    connection_id: str = "fake-media-connection",
    xoff_level: int = 900,
    xon_level: int = 800,
    max_frames: int = 1000,
) -> AsyncIterator[FakeMediaEndpoint]:
    """A :class:`FakeMediaEndpoint` on a free port of 127.0.0.1 for the block."""
    endpoint = FakeMediaEndpoint(
        connection_id=connection_id, xoff_level=xoff_level, xon_level=xon_level, max_frames=max_frames
    )
    server: Server = await serve(
        endpoint._handle,
        "127.0.0.1",
        0,
        subprotocols=[websockets.Subprotocol("media")],
        process_request=endpoint._process_request,
        compression=None,
    )
    endpoint.port = next(iter(server.sockets)).getsockname()[1]
    try:
        yield endpoint
    finally:
        server.close()
        await server.wait_closed()
