"""Test support: a local server speaking OpenAI's Chat Completions protocol over real HTTP.

``POST /v1/chat/completions`` answers each request with the next scripted reply: streamed chunks
(``text/event-stream``, ``data: [DONE]`` at the end) when the request asks for ``stream: true``, one JSON
completion otherwise, as OpenAI does. Replies can split text and tool-call arguments over many chunks, send
malformed arguments, answer with an HTTP error, wait before the first chunk, or break off. Every request is
recorded, and checked against the protocol's rules that servers enforce (a 400 otherwise)::

    async with serving_chat_server() as server:
        server.script(rate_limited(retry_after="0"), text("Hello", " there"))
        model = OpenAIChatModel(client, base_url=server.api_base, model="test-model")
        ...
        assert server.requests[-1].messages[0]["role"] == "system"
"""

from __future__ import annotations

import asyncio
import json
import time
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Send

from ai_agent.llm.testing_script import (
    Answer,
    HttpError,
    Reply,
    ScriptedCall,
    completion,
    error_body,
    protocol_problems,
    rate_limited,
    stream_chunks,
    text,
    tool_call,
    tool_calls,
)
from ai_agent.providers.testing import (
    PlayedReply,
    ScriptedServer,
    openai_error,
    send_whole,
    serving_scripted,
)

__all__ = [
    "Answer",
    "ChatServer",
    "HttpError",
    "ReceivedRequest",
    "Reply",
    "ScriptedCall",
    "rate_limited",
    "serving_chat_server",
    "text",
    "tool_call",
    "tool_calls",
]


@dataclass(slots=True)
class ReceivedRequest:
    headers: dict[str, str]  # names in lower case
    body: dict[str, Any]
    at: float  # time.monotonic()
    disconnected: bool = False  # the client went away before the answer was complete
    closed: asyncio.Event = field(default_factory=asyncio.Event)  # the answer is over, one way or the other

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages") or [])

    @property
    def tools(self) -> list[dict[str, Any]]:
        return list(self.body.get("tools") or [])

    @property
    def authorization(self) -> str | None:
        return self.headers.get("authorization")


class ChatServer(ScriptedServer[Reply, ReceivedRequest]):
    """Answers with the scripted replies in turn, then with ``otherwise`` (a 400 naming the problem if that
    is ``None``). ``validate=False`` accepts requests that break the protocol's rules."""

    def __init__(self, *, validate: bool = True) -> None:
        super().__init__()
        self.validate = validate
        self.app = Starlette(routes=[Route("/v1/chat/completions", self._handle, methods=["POST"])])

    async def _handle(self, request: Request) -> Response:
        try:
            body = json.loads(await request.body())
        except ValueError:
            return openai_error(400, "We could not parse the JSON body of your request.")
        if not isinstance(body, dict):
            return openai_error(400, "The request body must be a JSON object.")
        received = ReceivedRequest({k.lower(): v for k, v in request.headers.items()}, body, time.monotonic())
        self.requests.append(received)
        problems = protocol_problems(body) if self.validate else []
        reply = self.next_reply()
        if problems or reply is None:
            received.closed.set()
            return openai_error(
                400, problems[0] if problems else "the test server has no scripted reply left"
            )
        return _ScriptedResponse(reply, received, len(self.requests), self._closing)


class _ScriptedResponse(PlayedReply):
    """Plays one reply (the ``number``-th request's answer)."""

    def __init__(self, reply: Reply, received: ReceivedRequest, number: int, closing: asyncio.Event) -> None:
        super().__init__(received, closing)
        self.reply = reply
        self.request = received
        self.number = number

    async def play(self, send: Send) -> None:
        reply = self.reply
        if isinstance(reply, HttpError):
            if await self.pause(reply.delay):
                await send_whole(send, reply.status, error_body(reply), "application/json", reply.headers)
            return
        model = str(self.request.body.get("model", ""))
        if reply.as_json or self.request.body.get("stream") is not True:
            if await self.pause(reply.delay):
                body = json.dumps(completion(reply, model, self.number)).encode()
                await send_whole(send, 200, body, "application/json")
            return
        await self._stream(send, reply, model)

    async def _stream(self, send: Send, reply: Answer, model: str) -> None:
        headers = [(b"content-type", b"text/event-stream; charset=utf-8"), (b"cache-control", b"no-cache")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        events = [json.dumps(chunk) for chunk in stream_chunks(reply, model, self.number)]
        kept = events if reply.cut_after is None else events[: reply.cut_after + 1]
        if not await self.pause(reply.delay):
            return
        for index, event in enumerate(kept):
            if index > 1 and not await self.pause(reply.chunk_delay):
                return
            await _send_event(send, event)
        if reply.cut_after is not None and reply.cut == "abort":
            return  # returning without the end of the body: the server drops the connection
        if reply.cut_after is not None and reply.cut == "error":
            await _send_event(
                send, json.dumps({"error": {"message": "The server had an error", "type": "server_error"}})
            )
        if reply.cut_after is None:
            await _send_event(send, "[DONE]")
        await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _send_event(send: Send, data: str) -> None:
    await send({"type": "http.response.body", "body": f"data: {data}\n\n".encode(), "more_body": True})


def serving_chat_server(*, validate: bool = True) -> AbstractAsyncContextManager[ChatServer]:
    """A :class:`ChatServer` served by uvicorn on a free port of 127.0.0.1 for the block."""
    return serving_scripted(ChatServer(validate=validate))
