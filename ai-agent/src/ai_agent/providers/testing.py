"""Test support shared by the local provider servers (:mod:`ai_agent.llm.testing`,
:mod:`ai_agent.tts.testing`, :mod:`ai_agent.stt.testing`): the script of replies, the requests received, a
reply played over raw ASGI (pausing, noticing a client going away, breaking off), and serving a server on a
free port."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from dialplane.testing.http import serving

ReplyT = TypeVar("ReplyT")
RequestT = TypeVar("RequestT")


@dataclass(frozen=True, slots=True)
class HttpError:
    """An error answer in the provider's own error format, after ``delay``."""

    status: int
    message: str = "The server had an error while processing your request."
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0


class ScriptedServer(Generic[ReplyT, RequestT]):
    """Answers with the scripted replies in turn, then with ``otherwise``; records the requests received."""

    app: ASGIApp

    def __init__(self) -> None:
        self.base_url = ""
        self.requests: list[RequestT] = []
        self.otherwise: ReplyT | None = None
        self._replies: deque[ReplyT] = deque()
        self._closing = asyncio.Event()

    @property
    def api_base(self) -> str:
        """The base URL a client uses (``…/v1``)."""
        return f"{self.base_url}/v1"

    def script(self, *replies: ReplyT) -> None:
        self._replies.extend(replies)

    @property
    def pending(self) -> int:
        """Scripted replies not yet used."""
        return len(self._replies)

    def reset(self) -> None:
        """Forget the script, ``otherwise`` and the requests received (a server shared between tests)."""
        self._replies.clear()
        self.requests.clear()
        self.otherwise = None

    def close(self) -> None:
        """End the answers still waiting or streaming (when the server stops)."""
        self._closing.set()

    def next_reply(self) -> ReplyT | None:
        """The next scripted reply, else ``otherwise``."""
        return self._replies.popleft() if self._replies else self.otherwise


ServerT = TypeVar("ServerT", bound="ScriptedServer[Any, Any]")


@asynccontextmanager
async def serving_scripted(server: ServerT) -> AsyncIterator[ServerT]:
    """``server`` served by uvicorn on a free port of 127.0.0.1 for the block."""
    async with serving(server.app) as base_url:
        server.base_url = base_url
        try:
            yield server
        finally:
            server.close()


class Answered(Protocol):
    """A received request as a played reply sees it."""

    disconnected: bool  # the client went away before the answer was complete
    closed: asyncio.Event  # the answer is over, one way or the other


class PlayedReply(Response):
    """Plays one reply over raw ASGI (:meth:`play`, in a subclass), so that it can pause, notice a client
    going away, and break off."""

    def __init__(self, received: Answered, closing: asyncio.Event) -> None:
        super().__init__()
        self.received = received
        self.closing = closing
        self.gone = asyncio.Event()  # the client disconnected, or the server is closing
        self.complete = False

    async def play(self, send: Send) -> None:
        raise NotImplementedError

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        watchers = [asyncio.create_task(self._watch(receive)), asyncio.create_task(self._watch_closing())]
        try:
            await self.play(send)
            self.complete = True
        finally:
            for watcher in watchers:
                watcher.cancel()
            self.received.closed.set()

    async def _watch(self, receive: Receive) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        self.received.disconnected = not self.complete
        self.gone.set()

    async def _watch_closing(self) -> None:
        await self.closing.wait()
        self.gone.set()

    async def pause(self, seconds: float) -> bool:
        """Wait ``seconds``; ``False`` if the client went away (or the server is closing) meanwhile."""
        return await wait_unless(self.gone, seconds)


async def wait_unless(event: asyncio.Event, seconds: float) -> bool:
    """Wait ``seconds`` unless ``event`` is set meanwhile; ``False`` if it is set."""
    if seconds > 0:
        with suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), seconds)
    return not event.is_set()


async def send_whole(
    send: Send, status: int, body: bytes, content_type: str, headers: Mapping[str, str] | None = None
) -> None:
    """A whole answer, with its ``content-length``."""
    raw_headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
    raw_headers += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def openai_error(status: int, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    """An error as OpenAI's servers refuse a request: ``{"error": {"message": …, "type": …}}``."""
    error = {"message": message, "type": "invalid_request_error", "param": None, "code": None}
    return JSONResponse({"error": error}, status_code=status, headers=dict(headers or {}))
