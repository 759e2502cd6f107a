"""Test support: a local server speaking Deepgram's live-streaming protocol over a real WebSocket.

``/v1/listen`` takes binary audio frames and the text messages ``Finalize``, ``KeepAlive`` and
``CloseStream``. It cannot hear, so each ``Finalize`` is answered with the next scripted
:class:`Finalized`: ``Results`` messages whose times (``start``, ``duration``, words) are laid out over the
audio received since the previous ``Finalize``, as Deepgram's are, unless a :class:`Said` gives its own.
The last final result carries ``from_finalize: true`` unless the reply says not to confirm. The server can
refuse handshakes (401 without the right ``Authorization: Token …``, or a scripted status) and drop a
connection once it has received some seconds of audio. Every connection is recorded::

    async with serving_deepgram_server(api_key="dg-test") as server:
        server.script(finalized("can we meet", "on friday", interim=["can we"]))
        server.drop_after(0.5)  # the connection breaks once it has had 0.5 s of audio
        stt = DeepgramStreaming(api_key="dg-test", base_url=server.url)
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response


@dataclass(frozen=True, slots=True)
class Said:
    """One ``Results`` message; ``start``/``end`` are seconds of the connection's audio (laid out by the
    server when ``None``)."""

    text: str
    is_final: bool = True
    start: float | None = None
    end: float | None = None
    confidence: float = 0.98


@dataclass(frozen=True, slots=True)
class Finalized:
    """The answer to one ``Finalize``: ``results`` in order, after ``delay`` seconds; the last final one is
    marked ``from_finalize`` when ``confirm`` (with no final result, an empty final one is sent)."""

    results: tuple[Said, ...] = ()
    delay: float = 0.0
    confirm: bool = True


def finalized(
    *finals: str | Said, interim: Sequence[str] = (), delay: float = 0.0, confirm: bool = True
) -> Finalized:
    """Interim results (ignored by a correct client) first, then the final transcripts."""
    said = [Said(text, is_final=False) for text in interim]
    said += [item if isinstance(item, Said) else Said(item) for item in finals]
    return Finalized(tuple(said), delay, confirm)


@dataclass(slots=True)
class ReceivedStream:
    """One connection: its handshake, the audio and the text messages it sent."""

    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names in lower case
    audio: bytearray = field(default_factory=bytearray)
    messages: list[dict[str, Any]] = field(default_factory=list)
    finalized_until: float = 0.0  # seconds of audio answered by a Finalize
    ended: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def authorization(self) -> str | None:
        return self.headers.get("authorization")

    @property
    def sample_rate(self) -> int:
        return int(self.query.get("sample_rate", "16000"))

    @property
    def seconds(self) -> float:
        return len(self.audio) / (2 * self.sample_rate)

    def count(self, message_type: str) -> int:
        return sum(1 for message in self.messages if message.get("type") == message_type)


class DeepgramServer:
    def __init__(self, api_key: str | None = None) -> None:
        self.api_key = api_key
        self.url = ""  # ws://127.0.0.1:<port>
        self.streams: list[ReceivedStream] = []
        self.refused = 0  # handshakes refused
        self._replies: deque[Finalized] = deque()
        self._drops: deque[float] = deque()
        self._refusals: deque[tuple[int, dict[str, str]]] = deque()
        self._open: set[ServerConnection] = set()

    def script(self, *replies: Finalized) -> None:
        self._replies.extend(replies)

    def drop_after(self, seconds: float) -> None:
        """The first connection (open now or later) to have received ``seconds`` of audio is cut, with no
        close frame; several calls cut several connections in turn."""
        self._drops.append(seconds)

    def drop_now(self) -> None:
        """Cut every open connection, with no close frame."""
        for connection in self._open:
            connection.transport.abort()

    def refuse_next(self, status: int, headers: dict[str, str] | None = None) -> None:
        self._refusals.append((status, headers or {}))

    def reset(self) -> None:
        self.streams.clear()
        self._replies.clear()
        self._drops.clear()
        self._refusals.clear()
        self.refused = 0

    def check_handshake(self, connection: ServerConnection, request: Request) -> Response | None:
        refusal = self._refusal(request)
        if refusal is None:
            return None
        self.refused += 1
        response = connection.respond(refusal[0], HTTPStatus(refusal[0]).phrase)
        for name, value in refusal[1].items():
            response.headers[name] = value
        return response

    def _refusal(self, request: Request) -> tuple[int, dict[str, str]] | None:
        if self._refusals:
            return self._refusals.popleft()
        if self.api_key is not None and request.headers.get("Authorization") != f"Token {self.api_key}":
            return (401, {})
        if urlsplit(request.path).path != "/v1/listen":
            return (404, {})
        return None

    async def handle(self, connection: ServerConnection) -> None:
        request = connection.request
        assert request is not None
        parts = urlsplit(request.path)
        headers = {name.lower(): value for name, value in request.headers.raw_items()}
        stream = ReceivedStream(parts.path, dict(parse_qsl(parts.query)), headers)
        self.streams.append(stream)
        self._open.add(connection)
        try:
            await self._serve(connection, stream)
        except ConnectionClosed:
            pass
        finally:
            self._open.discard(connection)
            stream.ended.set()

    async def _serve(self, connection: ServerConnection, stream: ReceivedStream) -> None:
        async for message in connection:
            if isinstance(message, bytes):
                stream.audio += message
                if self._drops and stream.seconds >= self._drops[0]:
                    self._drops.popleft()
                    connection.transport.abort()  # as a network failure: no close frame
                    return
                continue
            body = json.loads(message)
            stream.messages.append(body)
            if body.get("type") == "Finalize":
                await self._finalize(connection, stream)
            elif body.get("type") == "CloseStream":
                await connection.send(json.dumps(_metadata(stream)))
                await connection.close()
                return

    async def _finalize(self, connection: ServerConnection, stream: ReceivedStream) -> None:
        reply = self._replies.popleft() if self._replies else Finalized()
        if reply.delay > 0:
            await asyncio.sleep(reply.delay)
        span = (stream.finalized_until, stream.seconds)
        stream.finalized_until = stream.seconds
        for message in _results(reply, span):
            await connection.send(json.dumps(message))


def _results(reply: Finalized, span: tuple[float, float]) -> list[dict[str, Any]]:
    finals = [said for said in reply.results if said.is_final] or ([Said("")] if reply.confirm else [])
    step = (span[1] - span[0]) / max(len(finals), 1)
    messages, index = [], 0
    for said in [said for said in reply.results if not said.is_final] + finals:
        slot = (span[0] + index * step, span[0] + (index + 1) * step) if said.is_final else span
        last = said.is_final and index == len(finals) - 1
        messages.append(_result(said, slot, from_finalize=last and reply.confirm))
        index += 1 if said.is_final else 0
    return messages


def _result(said: Said, slot: tuple[float, float], *, from_finalize: bool) -> dict[str, Any]:
    start = said.start if said.start is not None else slot[0]
    end = said.end if said.end is not None else slot[1]
    words = said.text.split()
    width = (end - start) / max(len(words), 1)
    return {
        "type": "Results",
        "channel_index": [0, 1],
        "duration": round(end - start, 3),
        "start": round(start, 3),
        "is_final": said.is_final,
        "speech_final": said.is_final,
        "from_finalize": from_finalize,
        "channel": {
            "alternatives": [
                {
                    "transcript": said.text,
                    "confidence": said.confidence,
                    "words": [_word(word, start + i * width, width, said) for i, word in enumerate(words)],
                }
            ]
        },
        "metadata": {"request_id": "test", "model_info": {"name": "test", "version": "0", "arch": "test"}},
    }


def _word(text: str, start: float, width: float, said: Said) -> dict[str, Any]:
    bare = text.strip(".,?!").lower()
    return {
        "word": bare,
        "start": round(start, 3),
        "end": round(start + width, 3),
        "confidence": said.confidence,
        "punctuated_word": text,
    }


def _metadata(stream: ReceivedStream) -> dict[str, Any]:
    return {"type": "Metadata", "request_id": "test", "duration": round(stream.seconds, 3), "channels": 1}


@asynccontextmanager
async def serving_deepgram_server(*, api_key: str | None = None) -> AsyncIterator[DeepgramServer]:
    """A :class:`DeepgramServer` on a free port of 127.0.0.1 for the block."""
    server = DeepgramServer(api_key)
    async with serve(server.handle, "127.0.0.1", 0, process_request=server.check_handshake) as running:
        port = next(iter(running.sockets)).getsockname()[1]
        server.url = f"ws://127.0.0.1:{port}"
        yield server
