"""The cross-service tests' harness: gateway, dialer and ARI bridge running together on the test database
and the real Asterisk, as in production (the gateway and the dialer behind real HTTP ports, so the gateway
forwards over the network and live events stream), plus a real webhook receiver and a gateway user.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

from ari_bridge.testing import Bridge, running_bridge
from dialer.main import create_app as create_dialer
from dialer.testing import TEST_WEBHOOK_SECRET, dialer_settings
from dialer.webhooks.testing import Receiver, serving_receiver
from dialplane.db import SessionFactory
from dialplane.events import PostgresEventStream
from dialplane.testing.asterisk import AsteriskInfo
from dialplane.testing.http import serving
from gateway.main import create_app as create_gateway
from gateway.testing import add_user, gateway_settings

PASSWORD = "a long test password"
FINAL = ("completed", "busy", "no_answer", "failed", "canceled")
LEAD_ZONE = "America/New_York"  # the AI calls' lead, and their calendar's zone


@dataclass
class Stack:
    gateway: httpx.AsyncClient  # base URL: the gateway
    bridge: Bridge
    receiver: Receiver
    sessions: SessionFactory

    async def token(self, name: str = "alice", scopes: Iterable[str] | None = None) -> dict[str, str]:
        """The Authorization header of a new user's access token."""
        await add_user(self.sessions, name, PASSWORD, scopes)
        answer = await self.gateway.post("/api/v1/token", data={"username": name, "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}

    async def wait_for_status(
        self, auth: dict[str, str], call_id: str, *statuses: str, within: float = 30.0
    ) -> dict[str, Any]:
        """The call (``GET /api/v1/calls/{id}``) once its status is one of ``statuses``."""
        async with asyncio.timeout(within):
            while True:
                answer = await self.gateway.get(f"/api/v1/calls/{call_id}", headers=auth)
                assert answer.status_code == 200, answer.text
                call: dict[str, Any] = answer.json()
                if call["status"] in statuses:
                    return call
                await asyncio.sleep(0.1)


@dataclass
class LiveEvents:
    """What ``GET /api/v1/events`` streamed, parsed from the server-sent events."""

    events: list[dict[str, Any]] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def statuses(self, call_id: str) -> list[str]:
        return [e["type"].removeprefix("call.") for e in self.events if e["call_id"] == call_id]

    async def wait_until_final(self, call_id: str, within: float = 30.0) -> list[str]:
        async with asyncio.timeout(within):
            while not set(self.statuses(call_id)) & set(FINAL):
                self.arrived.clear()
                await self.arrived.wait()
        return self.statuses(call_id)


@contextlib.asynccontextmanager
async def live_events(
    client: httpx.AsyncClient, auth: dict[str, str], **params: str
) -> AsyncIterator[LiveEvents]:
    """Follow the gateway's live events in the background for the block."""
    live = LiveEvents()
    connected = asyncio.Event()

    async def follow() -> None:
        async with client.stream("GET", "/api/v1/events", headers=auth, params=params) as answer:
            assert answer.status_code == 200, await answer.aread()
            assert answer.headers["content-type"].startswith("text/event-stream")
            async for line in answer.aiter_lines():
                connected.set()
                if line.startswith("data: "):
                    live.events.append(json.loads(line.removeprefix("data: ")))
                    live.arrived.set()

    task = asyncio.create_task(follow())
    try:
        async with asyncio.timeout(10):
            await connected.wait()
        yield live
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@contextlib.asynccontextmanager
async def running_stack(
    database_url: str,
    asterisk: AsteriskInfo,
    sessions: SessionFactory,
    stream: PostgresEventStream,
    *,
    ai_agent_url: str = "http://127.0.0.1:9",  # none: the agent routes answer 503
) -> AsyncIterator[Stack]:
    dialer = create_dialer(
        dialer_settings(
            database_url,
            webhook_allow_private_targets=True,
            webhook_backoff_base_seconds=0.05,
            webhook_backoff_cap_seconds=0.5,
            webhook_poll_interval_seconds=0.2,
        )
    )
    async with (
        running_bridge(database_url, asterisk, sessions, stream) as bridge,
        serving(dialer) as dialer_url,
        serving(
            create_gateway(gateway_settings(database_url, dialer_url=dialer_url, ai_agent_url=ai_agent_url))
        ) as gateway_url,
        httpx.AsyncClient(base_url=gateway_url, timeout=30) as gateway,
        serving_receiver(TEST_WEBHOOK_SECRET) as receiver,
    ):
        yield Stack(gateway, bridge, receiver, sessions)
