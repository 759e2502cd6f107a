"""Test support: a running bridge on a test database and a real Asterisk, driven through the event stream
(as the dialer drives it). Used by the bridge's tests and by end-to-end tests of the services above it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import SecretStr
from sqlalchemy import text

from ari_bridge.calls import repository
from ari_bridge.calls.repository import BridgeCall
from ari_bridge.main import create_app
from ari_bridge.settings import TEST_CARRIER, NodeConfig, Settings, TrunkConfig
from dialplane.calls import BRIDGE_QUEUE, HANGUP, ORIGINATE, CallStatus
from dialplane.db import SessionFactory, transaction
from dialplane.events import NewCommand, PostgresEventStream
from dialplane.internal_auth import Principal
from dialplane.testing.asterisk import AsteriskInfo
from dialplane.testing.http import SignedPrincipal, app_client, service_settings

STAYS_ON_THE_LINE = "+12025550104"  # the test carrier answers and waits for our hangup


@dataclass
class Bridge:
    """The bridge under test and what a dialer would do with it."""

    client: httpx.AsyncClient
    sessions: SessionFactory
    stream: PostgresEventStream

    async def send(self, *commands: NewCommand) -> None:
        async with transaction(self.sessions) as session:
            await self.stream.send(session, *commands)

    async def originate(self, to: str, call_id: str | None = None, **options: Any) -> str:
        call_id = call_id or str(uuid.uuid4())
        await self.send(originate_command(call_id, to, **options))
        return call_id

    async def hangup(self, call_id: str) -> None:
        await self.send(hangup_command(call_id))

    async def call(self, call_id: str) -> BridgeCall | None:
        async with transaction(self.sessions) as session:
            return await repository.get(session, call_id)

    async def wait_for(self, call_id: str, *statuses: CallStatus, within: float = 30.0) -> BridgeCall:
        async with asyncio.timeout(within):
            while True:
                call = await self.call(call_id)
                if call is not None and call.status in statuses:
                    return call
                await asyncio.sleep(0.05)

    async def answered_calls(self, count: int, to: str = STAYS_ON_THE_LINE) -> dict[str, str]:
        """``count`` new calls, once answered: call id -> the node that carries it."""
        call_ids = [await self.originate(to) for _ in range(count)]
        calls = [await self.wait_for(call_id, CallStatus.ANSWERED) for call_id in call_ids]
        return {call.call_id: str(call.node) for call in calls}

    async def hang_up_all(self, call_ids: Iterable[str]) -> list[BridgeCall]:
        """Hang each call up and wait until it has ended; the ended calls."""
        call_ids = list(call_ids)
        for call_id in call_ids:
            await self.hangup(call_id)
        ended = tuple(s for s in CallStatus if s.is_terminal)
        return [await self.wait_for(call_id, *ended) for call_id in call_ids]

    async def event_types(self, call_id: str) -> list[str]:
        query = text("SELECT type FROM events WHERE stream = 'calls' AND key = :key ORDER BY tx_id, id")
        async with transaction(self.sessions) as session:
            return list((await session.execute(query, {"key": call_id})).scalars())


OPERATOR = Principal(id="user:operator", kind="user", name="operator", scopes=frozenset({"admin"}))


def originate_command(call_id: str, to: str, **options: Any) -> NewCommand:
    return NewCommand(BRIDGE_QUEUE, call_id, ORIGINATE, {"call_id": call_id, "to": to, **options})


def hangup_command(call_id: str) -> NewCommand:
    return NewCommand(BRIDGE_QUEUE, call_id, HANGUP, {"call_id": call_id})


def node_config(name: str, asterisk: AsteriskInfo, entity_id: str | None = None) -> NodeConfig:
    """A node of the tests of several nodes (and bridges): the app is named after the node, so every bridge
    drives a node with the same app."""
    return NodeConfig(
        name=name,
        ari_url=asterisk.ari_url,
        username=asterisk.username,
        password=SecretStr(asterisk.password),
        app=f"nodes-test-{name}",
        entity_id=entity_id or asterisk.entity_id,
    )


def bridge_settings(database_url: str, asterisk: AsteriskInfo, **overrides: Any) -> Settings:
    node = NodeConfig(
        name="local",
        ari_url=asterisk.ari_url,
        username=asterisk.username,
        password=SecretStr(asterisk.password),
        app=f"bridge-test-{uuid.uuid4().hex[:8]}",
    )
    values: dict[str, Any] = {
        "environment": "development",  # the local Asterisk uses the development credentials
        "nodes": [node],
        "trunks": [
            TEST_CARRIER,
            TrunkConfig(name="narrow", dial_string=TEST_CARRIER.dial_string, max_concurrent=10, max_cps=20),
        ],
        "event_poll_interval_seconds": 0.2,
        "duration_check_interval_seconds": 0.2,
        **overrides,
    }
    return service_settings(Settings, database_url, **values)


async def wait_ready(client: httpx.AsyncClient, within: float = 15.0) -> None:
    async with asyncio.timeout(within):
        while (await client.get("/ready")).status_code != 200:  # noqa: ASYNC110 -- polls over HTTP
            await asyncio.sleep(0.1)


@asynccontextmanager
async def running_bridge(
    database_url: str,
    asterisk: AsteriskInfo,
    sessions: SessionFactory,
    stream: PostgresEventStream,
    *,
    wait: bool = True,
    **overrides: Any,
) -> AsyncIterator[Bridge]:
    """The bridge app with its lifespan running, ready (connected to every node) unless ``wait`` is false."""
    async with app_client(create_app(bridge_settings(database_url, asterisk, **overrides))) as client:
        client.auth = SignedPrincipal(OPERATOR)
        if wait:
            await wait_ready(client)
        yield Bridge(client, sessions, stream)
