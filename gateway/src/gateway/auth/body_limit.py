"""Refusing request bodies larger than a limit (pure ASGI middleware): 413 problem+json.

A ``Content-Length`` over the limit is refused before the application runs. A body without one (chunked) or
one that lies is counted while it is received: once past the limit, reading it fails, whatever the
application answers is dropped and the client gets the 413 instead.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dialplane.errors import problem_response
from gateway.auth.metrics import BODIES_REFUSED


class BodyTooLargeError(Exception):
    """Raised from ``receive`` once the body has grown past the limit."""


class BodySizeLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._declared_length(scope) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        await self._counting(scope, receive, send)

    async def _counting(self, scope: Scope, receive: Receive, send: Send) -> None:
        received = 0
        exceeded = started = False

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    exceeded = True
                    raise BodyTooLargeError
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded and not started:
                return  # the application's answer to a body it could not read; the 413 replaces it
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not exceeded:  # an error of the application's own; else one caused by the refused body
                raise
        if exceeded and not started:
            await self._refuse(scope, receive, send)

    @staticmethod
    def _declared_length(scope: Scope) -> int:
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    return int(value)
                except ValueError:
                    return 0  # the server rejects a malformed length itself
        return 0

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        BODIES_REFUSED.inc()
        response = problem_response(
            413,
            "payload_too_large",
            "Payload too large",
            f"the request body is larger than {self.max_bytes} bytes",
            instance=scope.get("path"),
            extra={"max_bytes": self.max_bytes},
        )
        await response(scope, receive, send)
