"""Refusing request bodies larger than a limit (pure ASGI middleware): 413 problem+json.

A ``Content-Length`` over the limit is refused before the application runs. A body without one (chunked) or
one that lies is counted while it is received: once past the limit, reading it fails, whatever the
application answers is dropped and the client gets the 413 instead.

File uploads (:data:`UPLOAD_PATHS`, streamed to the service that stores them, never held) have a limit of
their own: ``max_upload_bytes`` if given, else the application's setting of that name
(``app.state.settings.max_upload_bytes``).
"""

from __future__ import annotations

from collections.abc import Collection

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dialplane.api.lead_imports import LEAD_IMPORT
from dialplane.errors import problem_response
from gateway.auth.metrics import BODIES_REFUSED

UPLOAD_PATHS = frozenset({LEAD_IMPORT})


class BodyTooLargeError(Exception):
    """Raised from ``receive`` once the body has grown past the limit."""


class BodySizeLimitMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        max_upload_bytes: int | None = None,
        upload_paths: Collection[str] = UPLOAD_PATHS,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_upload_bytes = max_upload_bytes
        self.upload_paths = upload_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope)
        if self._declared_length(scope) > limit:
            await self._refuse(scope, receive, send, limit)
            return
        await self._counting(scope, receive, send, limit)

    def _limit(self, scope: Scope) -> int:
        if scope.get("path") not in self.upload_paths:
            return self.max_bytes
        if self.max_upload_bytes is not None:
            return self.max_upload_bytes
        settings = getattr(getattr(scope.get("app"), "state", None), "settings", None)
        return int(getattr(settings, "max_upload_bytes", self.max_bytes))

    async def _counting(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        received = 0
        exceeded = started = False

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
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
            await self._refuse(scope, receive, send, limit)

    @staticmethod
    def _declared_length(scope: Scope) -> int:
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    return int(value)
                except ValueError:
                    return 0  # the server rejects a malformed length itself
        return 0

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        BODIES_REFUSED.inc()
        response = problem_response(
            413,
            "payload_too_large",
            "Payload too large",
            f"the request body is larger than {limit} bytes",
            instance=scope.get("path"),
            extra={"max_bytes": limit},
        )
        await response(scope, receive, send)
