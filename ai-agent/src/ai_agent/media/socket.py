"""The agent's end of a call's audio: a chan_websocket media connection to Asterisk.

The ARI bridge creates the media channel (``POST /channels/externalMedia``, WebSocket transport, server
mode, ``slin16``) and hands the agent its URL. Over the WebSocket (subprotocol ``media``):

* Asterisk sends ``MEDIA_START … format:slin16 optimal_frame_size:640 ptime:20`` first, then binary frames
  of the person's audio (signed 16-bit little-endian, 16 kHz, 20 ms), and text notices (``MEDIA_XOFF``,
  ``MEDIA_XON``, ``MEDIA_MARK_PROCESSED correlation_id:…``, ``QUEUE_DRAINED``, ``STATUS …``);
* a key the person presses arrives as ``DTMF_END digit:9`` (collected in :attr:`MediaSocket.keys`);
* the agent sends binary frames of its own speech, as fast as it has them: Asterisk queues and paces them
  (20 ms each) — so the event loop's jitter never reaches the caller — and ``FLUSH_MEDIA`` drops what is
  queued (barge-in), ``MARK_MEDIA correlation_id:X`` asks to be told when playback reaches that point, and
  ``HANGUP`` ends the media channel.

Flow control: Asterisk says ``MEDIA_XOFF`` when 900 frames (18 s) are queued; sending waits for
``MEDIA_XON``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass

import structlog
import websockets
from websockets.asyncio.client import ClientConnection

log = structlog.get_logger(__name__)

SUBPROTOCOL = "media"
SAMPLE_RATES = {"slin16": 16000, "slin": 8000, "slin8": 8000, "slin24": 24000, "slin48": 48000}


class MediaError(Exception):
    """The media connection could not be opened or broke."""


@dataclass(frozen=True, slots=True)
class MediaStart:
    connection_id: str
    channel_id: str
    media_format: str
    frame_bytes: int

    @property
    def sample_rate(self) -> int:
        return SAMPLE_RATES.get(self.media_format, 16000)


@dataclass(frozen=True, slots=True)
class Notice:
    """A text message from Asterisk: its name and ``key:value`` fields."""

    name: str
    fields: dict[str, str]


def parse_notice(text: str) -> Notice:
    name, _, rest = text.partition(" ")
    fields = dict(part.split(":", 1) for part in rest.split() if ":" in part)
    return Notice(name, fields)


class MediaSocket:
    """One call's media connection. Use :meth:`connect`; read with :meth:`audio`; write with :meth:`play`."""

    def __init__(self, connection: ClientConnection, start: MediaStart) -> None:
        self._connection = connection
        self.start = start
        self._may_send = asyncio.Event()
        self._may_send.set()
        self._marks: dict[str, asyncio.Event] = {}
        self._pending = b""
        self.closed = False
        self.keys: list[str] = []  # digits pressed and not yet taken
        self.first_audio_at: dt.datetime | None = None  # when the agent's first audio was sent (UTC)

    @classmethod
    async def connect(cls, url: str, *, open_timeout: float = 5.0) -> MediaSocket:
        try:
            connection = await websockets.connect(
                url,
                subprotocols=[websockets.Subprotocol(SUBPROTOCOL)],
                open_timeout=open_timeout,
                max_size=2**20,
            )
            first = await asyncio.wait_for(connection.recv(), open_timeout)
        except (OSError, TimeoutError, websockets.WebSocketException) as exc:
            raise MediaError(f"cannot open the call's media connection: {exc}") from exc
        notice = parse_notice(first if isinstance(first, str) else "")
        if notice.name != "MEDIA_START":
            await connection.close()
            raise MediaError(f"the media connection did not start with MEDIA_START: {first!r:.80}")
        start = MediaStart(
            connection_id=notice.fields.get("connection_id", ""),
            channel_id=notice.fields.get("channel_id", ""),
            media_format=notice.fields.get("format", "slin16"),
            frame_bytes=int(notice.fields.get("optimal_frame_size", "640")),
        )
        return cls(connection, start)

    async def audio(self) -> AsyncIterator[bytes]:
        """The person's audio frames until the connection closes; notices are handled on the way."""
        with contextlib.suppress(websockets.ConnectionClosed):
            async for message in self._connection:
                if isinstance(message, bytes):
                    yield message
                else:
                    self._on_notice(parse_notice(message))
        self.closed = True
        self._may_send.set()  # nobody waits forever on a closed connection
        for mark in self._marks.values():
            mark.set()

    def _on_notice(self, notice: Notice) -> None:
        if notice.name == "MEDIA_XOFF":
            self._may_send.clear()
        elif notice.name == "MEDIA_XON":
            self._may_send.set()
        elif notice.name == "MEDIA_MARK_PROCESSED":
            mark = self._marks.pop(notice.fields.get("correlation_id", ""), None)
            if mark is not None:
                mark.set()
        elif notice.name == "DTMF_END" and notice.fields.get("digit"):
            self.keys.append(notice.fields["digit"])
        elif notice.name not in ("QUEUE_DRAINED", "STATUS"):
            log.debug("media_notice", notice=notice.name)

    async def play(self, pcm: bytes) -> None:
        """Queue the agent's audio (any length; cut into whole frames, the remainder kept for the next
        call or :meth:`end_of_speech`)."""
        data = self._pending + pcm
        whole = len(data) - len(data) % self.start.frame_bytes
        self._pending = data[whole:]
        for index, offset in enumerate(range(0, whole, self.start.frame_bytes)):
            if index % 5 == 4:
                await asyncio.sleep(0)  # let the reader see a MEDIA_XOFF in a long play
            await self._may_send.wait()
            await self._send(data[offset : offset + self.start.frame_bytes])

    async def end_of_speech(self, correlation_id: str) -> asyncio.Event:
        """Send the last partial frame (padded with silence) and a mark; the event is set when Asterisk has
        played everything queued before it (or the connection is gone, or it was flushed)."""
        if self._pending:
            await self._send(self._pending.ljust(self.start.frame_bytes, b"\x00"))
            self._pending = b""
        done = asyncio.Event()
        if self.closed:
            done.set()
            return done
        self._marks[correlation_id] = done
        await self._send(f"MARK_MEDIA correlation_id:{correlation_id}")
        return done

    async def flush(self) -> None:
        """Drop every queued frame at once (barge-in): the caller stops hearing the agent."""
        self._pending = b""
        await self._send("FLUSH_MEDIA")
        for mark in self._marks.values():  # flushed marks are never reported
            mark.set()
        self._marks.clear()

    async def hangup(self) -> None:
        await self._send("HANGUP")

    async def close(self) -> None:
        await self._connection.close()

    async def _send(self, message: bytes | str) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            await self._connection.send(message)
            if self.first_audio_at is None and isinstance(message, bytes):
                self.first_audio_at = dt.datetime.now(dt.UTC)
