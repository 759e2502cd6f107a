"""Test support: a real webhook receiver (uvicorn serving a small Starlette app on 127.0.0.1) that answers
from a script and checks every signature, and helpers to wait for deliveries. Used by the webhook tests and
by tests of the dialer that expect status callbacks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any, Literal

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dialer.webhooks import repository
from dialer.webhooks.config import WebhookConfig
from dialer.webhooks.repository import Attempt, Delivery
from dialer.webhooks.runner import WebhookRunner
from dialer.webhooks.sender import create_client
from dialer.webhooks.service import enqueue_status_callback
from dialer.webhooks.signing import verify_signature
from dialplane.db import SessionFactory, transaction
from dialplane.events.wakeup import Listener
from dialplane.runners import running
from dialplane.testing.http import serving

TEST_SECRET = "whsec-test-0123456789"  # noqa: S105 (a test value, not a secret)
FAST_CONFIG = WebhookConfig(
    signing_secret=TEST_SECRET,
    timeout_seconds=0.5,
    max_attempts=3,
    backoff_base_seconds=0.02,
    backoff_cap_seconds=0.1,
    allow_private_targets=True,
    concurrency=4,
    poll_interval_seconds=0.05,
)
"""Tiny timeouts and backoffs for tests, local receivers allowed."""

HANG: Literal["hang"] = "hang"
Answer = int | Literal["hang"]


@dataclass(frozen=True, slots=True)
class Received:
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes
    at: float  # time.monotonic()
    signature_valid: bool

    @property
    def event_type(self) -> str:
        return self.headers.get("x-dialplane-event", "")


class Receiver:
    """Answers ``POST /<path>`` with the scripted answers of that path in turn, then with ``then``.

    A :data:`HANG` answer only comes when the receiver stops; a 3xx redirects to ``/<path>-redirected``.
    Every request is recorded with the result of :func:`verify_signature` for ``secret``.
    """

    def __init__(self, secret: str = TEST_SECRET) -> None:
        self.secret = secret
        self.base_url = ""
        self.requests: list[Received] = []
        self.release = asyncio.Event()
        self.app = Starlette(routes=[Route("/{path:path}", self._handle, methods=["POST"])])
        self._scripts: dict[str, list[Answer]] = {}
        self._then: dict[str, Answer] = {}
        self._arrived = asyncio.Event()

    def answer(self, path: str, *answers: Answer, then: Answer = 200) -> str:
        """Script ``path`` (no leading slash; a query string is not part of it) and return its URL."""
        self._scripts[path.split("?", 1)[0]] = list(answers)
        self._then[path.split("?", 1)[0]] = then
        return f"{self.base_url}/{path}"

    def received(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path == path]

    async def wait_for(self, count: int, path: str, within: float = 5.0) -> list[Received]:
        async with asyncio.timeout(within):
            while len(self.received(path)) < count:
                self._arrived.clear()
                await self._arrived.wait()
        return self.received(path)

    async def _handle(self, request: Request) -> Response:
        path = request.path_params["path"]
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        timestamp = headers.get("x-dialplane-timestamp", "")
        valid = verify_signature(self.secret, timestamp, body, headers.get("x-dialplane-signature", ""))
        self.requests.append(Received(path, headers, body, time.monotonic(), valid))
        self._arrived.set()
        script = self._scripts.get(path, [])
        answer = script.pop(0) if script else self._then.get(path, 200)
        if answer == HANG:
            await self.release.wait()
            return Response(status_code=200)
        if 300 <= answer < 400:  # a redirect to <path>-redirected (which must never be followed)
            return Response(status_code=answer, headers={"Location": f"/{path}-redirected"})
        return Response(status_code=answer)


@asynccontextmanager
async def serving_receiver(secret: str = TEST_SECRET) -> AsyncIterator[Receiver]:
    """A :class:`Receiver` served by uvicorn on a free port of 127.0.0.1 for the block."""
    receiver = Receiver(secret)
    async with serving(receiver.app) as base_url:
        receiver.base_url = base_url
        try:
            yield receiver
        finally:
            receiver.release.set()  # answers the hanging requests before the server stops


class WebhookHarness:
    """Runners on a test database, stopped when the harness closes, and what the dialer would do."""

    def __init__(self, sessions: SessionFactory, config: WebhookConfig = FAST_CONFIG) -> None:
        self.sessions = sessions
        self.config = config
        self._stack = AsyncExitStack()

    async def __aenter__(self) -> WebhookHarness:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._stack.aclose()

    async def start_runner(self, *, listener: Listener | None = None, **changes: Any) -> WebhookRunner:
        """Start a runner (with a client of its own) whose config is ``config`` changed by ``changes``."""
        client = await self._stack.enter_async_context(create_client())
        config = replace(self.config, **changes)
        runner = WebhookRunner(self.sessions, client, config, listener=listener)
        await self._stack.enter_async_context(running([runner], stop_timeout=5))
        return runner

    async def enqueue(self, call_id: str, url: str, event_type: str, **payload: Any) -> None:
        """Enqueue a status callback in a transaction of its own."""
        async with transaction(self.sessions) as session:
            await enqueue_status_callback(
                session, call_id=call_id, url=url, event_type=event_type, payload=payload
            )

    async def settled(self, call_id: str, within: float = 5.0) -> list[Delivery]:
        """Wait until the call has deliveries and none is pending; they are returned oldest first."""
        async with asyncio.timeout(within):
            while True:
                async with transaction(self.sessions) as session:
                    deliveries = await repository.list_for_call(session, call_id)
                if deliveries and all(d.status != "pending" for d in deliveries):
                    return deliveries
                await asyncio.sleep(0.02)

    async def attempts(self, delivery_id: int) -> list[Attempt]:
        async with transaction(self.sessions) as session:
            return await repository.list_attempts(session, delivery_id)
