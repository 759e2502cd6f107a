"""Abandoned agent calls on the real Asterisk: a person whose AI agent is not connected within 2 s of the
answer hears the identification message, and the call ends as abandoned; a call whose agent connects in time
is not. The person is the test carrier's listener (+12025550116), whose line records what it hears; the AI
agents are stand-ins that connect to the call's media WebSocket (or never do)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import math
import uuid
from array import array
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import websockets
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from websockets.asyncio.client import connect

from ari_bridge.settings import NodeConfig
from ari_bridge.testing import Bridge, running_bridge
from dialplane.calls import AGENT_QUEUE, CallStatus
from dialplane.db import SessionFactory, transaction
from dialplane.events import Command, PostgresEventStream
from dialplane.runners import running
from dialplane.testing.asterisk import AsteriskInfo

pytestmark = [pytest.mark.asterisk, pytest.mark.timeout(120)]

S = CallStatus
TERMINAL = (S.COMPLETED, S.BUSY, S.NO_ANSWER, S.FAILED, S.CANCELED)
ABANDON_CONTEXT = "dialplane-abandoned"
LISTENER = "+12025550116"  # answers, says "Hello?", then listens; its line records what it hears
AGENT_CALL = {"variables": {"DIALPLANE_MODE": "agent"}}
ABANDONED = "abandoned: no AI agent was ready within 2 s of the answer"
MESSAGE_LOUD_SECONDS = 6.0  # asterisk/voices/identification.txt as espeak-ng says it: 10.7 s, ~8 s of it loud
LOUD = 0.01  # RMS of full scale


@dataclass
class StandInAgents:
    """Takes ``agent.converse`` commands like an ai-agent and connects to the call's media after ``delay``,
    holding the connection (sending nothing) until Asterisk closes it."""

    delay: float = 0.0
    connected: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def take(self, _session: AsyncSession, command: Command) -> None:
        connecting = self._connect(command.data["call_id"], command.data["media_url"])
        self.tasks.append(asyncio.create_task(connecting))

    async def _connect(self, call_id: str, url: str) -> None:
        await asyncio.sleep(self.delay)
        try:
            async with connect(url, subprotocols=[websockets.Subprotocol("media")]) as media:
                self.connected.append(call_id)
                async for _ in media:
                    pass
        except (OSError, websockets.WebSocketException):
            self.refused.append(call_id)


@asynccontextmanager
async def stand_in_agents(stream: PostgresEventStream, delay: float = 0.0) -> AsyncIterator[StandInAgents]:
    agents = StandInAgents(delay)
    async with running([stream.worker(AGENT_QUEUE, agents.take)]):
        yield agents
    for task in agents.tasks:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@asynccontextmanager
async def listener_line(asterisk: AsteriskInfo) -> AsyncIterator[ListenerLine]:
    async with httpx.AsyncClient(
        base_url=asterisk.ari_url, auth=(asterisk.username, asterisk.password), timeout=10
    ) as ari:
        line = ListenerLine(ari)
        line.before = await line.stored()
        yield line


@dataclass
class ListenerLine:
    """What the listener's line heard on the call placed while this was open (stored by Asterisk), and when
    the call's channel reached the identification message (watched over ARI)."""

    ari: httpx.AsyncClient
    before: set[str] = field(default_factory=set)

    async def stored(self) -> set[str]:
        return {r["name"] for r in (await self.ari.get("/recordings/stored")).json()}

    async def message_started(self, call_id: str) -> dt.datetime:
        """When the call's channel entered the identification message's context (polled every 20 ms)."""
        async with asyncio.timeout(30):
            while True:
                channel = await self.ari.get(f"/channels/{call_id}")
                if channel.status_code == 200 and channel.json()["dialplan"]["context"] == ABANDON_CONTEXT:
                    return dt.datetime.now(dt.UTC)
                await asyncio.sleep(0.02)

    async def heard(self) -> list[float]:
        """Loudness per 10 ms of what the line heard. Its timing is not the call's: MixMonitor leaves out
        stretches without audio and pads audio with silence."""
        async with asyncio.timeout(5):
            while not (new := {n for n in await self.stored() - self.before if n.endswith("-heard")}):
                await asyncio.sleep(0.1)
        [name] = new
        answer = await self.ari.get(f"/recordings/stored/{name}/file")
        assert answer.status_code == 200, answer.text
        return loudness(answer.content)


def loudness(pcm: bytes, frame_ms: int = 10) -> list[float]:
    """RMS (a fraction of full scale) per ``frame_ms`` of 16 kHz 16-bit audio."""
    samples, size = array("h", pcm[: len(pcm) - len(pcm) % 2]), 16 * frame_ms
    return [
        math.sqrt(sum(x * x for x in samples[i : i + size]) / size) / 32768
        for i in range(0, len(samples) - size + 1, size)
    ]


def loud_seconds(levels: list[float]) -> float:
    """How long it was loud, in seconds."""
    return sum(level > LOUD for level in levels) / 100


async def ended_event(sessions: SessionFactory, call_id: str) -> dict[str, Any]:
    query = text("SELECT data FROM events WHERE stream = 'calls' AND key = :key AND type = 'call.completed'")
    async with transaction(sessions) as session:
        data: dict[str, Any] = (await session.execute(query, {"key": call_id})).scalar_one()
    return data


async def assert_abandoned_with_the_message(bridge: Bridge, call_id: str, line: ListenerLine) -> float:
    """The call ends as abandoned once the person has heard the message; returns when the message started,
    in seconds after the answer."""
    started = await line.message_started(call_id)
    call = await bridge.wait_for(call_id, *TERMINAL, within=30)
    assert (call.status, call.failure_reason) == (S.COMPLETED, ABANDONED)
    ended = await ended_event(bridge.sessions, call_id)
    assert (ended["abandoned"], ended["failure_reason"]) == (True, ABANDONED)
    assert loud_seconds(await line.heard()) >= MESSAGE_LOUD_SECONDS, "the person did not hear the message"
    assert call.answered_at is not None and call.ended_at is not None
    assert (call.ended_at - started).total_seconds() >= 10.0, "the message was cut short"
    return (started - call.answered_at).total_seconds()


async def test_a_person_whose_agent_never_connects_hears_the_identification_message(
    bridge: Bridge, asterisk: AsteriskInfo
) -> None:
    async with listener_line(asterisk) as line:
        call_id = await bridge.originate(LISTENER, **AGENT_CALL)  # no ai-agent takes agent.converse
        starts = await assert_abandoned_with_the_message(bridge, call_id, line)
    print(f"abandoned: the identification message started {starts:.3f} s after the answer")
    assert 2.0 <= starts <= 2.5


async def test_a_person_whose_agent_connects_in_time_is_not_abandoned(
    bridge: Bridge, asterisk: AsteriskInfo, event_stream: PostgresEventStream
) -> None:
    async with listener_line(asterisk) as line, stand_in_agents(event_stream) as agents:
        call_id = await bridge.originate(LISTENER, **AGENT_CALL)
        await bridge.wait_for(call_id, S.ANSWERED, within=10)
        await asyncio.sleep(3.0)  # past the 2 s
        await bridge.hangup(call_id)
        call = await bridge.wait_for(call_id, *TERMINAL, within=10)
        heard = loud_seconds(await line.heard())
    assert agents.connected == [call_id]
    assert (call.status, call.failure_reason) == (S.COMPLETED, None)
    assert (await ended_event(bridge.sessions, call_id))["abandoned"] is False
    assert heard == 0, "the person heard the identification message"


async def test_an_agent_that_connects_too_late_finds_the_call_abandoned(
    bridge: Bridge, asterisk: AsteriskInfo, event_stream: PostgresEventStream
) -> None:
    async with listener_line(asterisk) as line, stand_in_agents(event_stream, delay=3.0) as agents:
        call_id = await bridge.originate(LISTENER, **AGENT_CALL)
        await assert_abandoned_with_the_message(bridge, call_id, line)
    assert agents.connected == [] and agents.refused == [call_id]


async def test_a_machine_whose_agent_never_connects_is_hung_up_without_the_message(
    database_url: str, asterisk: AsteriskInfo, sessions: SessionFactory, event_stream: PostgresEventStream
) -> None:
    async with running_bridge(
        database_url, asterisk, sessions, event_stream, agent_connect_timeout_seconds=1.0
    ) as bridge:
        call_id = await bridge.originate("+12025550105", machine_detection=True, **AGENT_CALL)
        call = await bridge.wait_for(call_id, *TERMINAL, within=30)
    assert (call.status, call.answered_by) == (S.COMPLETED, "machine")
    assert call.failure_reason == "no AI agent took the call"
    assert (await ended_event(sessions, call_id))["abandoned"] is False


async def test_a_call_answered_while_the_bridge_restarts_is_still_abandoned_and_never_left_silent(
    database_url: str, asterisk: AsteriskInfo, sessions: SessionFactory, event_stream: PostgresEventStream
) -> None:
    """The in-process timer dies with the bridge; the delayed ``call.check_agent`` it sent survives."""
    node = NodeConfig(
        ari_url=asterisk.ari_url,
        username=asterisk.username,
        password=SecretStr(asterisk.password),
        app=f"bridge-test-{uuid.uuid4().hex[:8]}",
    )
    async with listener_line(asterisk) as line:
        async with running_bridge(database_url, asterisk, sessions, event_stream, nodes=[node]) as first:
            call_id = await first.originate(LISTENER, **AGENT_CALL)
            await first.wait_for(call_id, S.ANSWERED, within=10)
            await asyncio.sleep(0.5)  # the media channel waits for its agent
        async with running_bridge(database_url, asterisk, sessions, event_stream, nodes=[node]) as second:
            starts = await assert_abandoned_with_the_message(second, call_id, line)
    print(f"abandoned across a restart: the message started {starts:.3f} s after the answer")
    assert starts <= 4.0  # the delayed command: its 2 s, then up to one poll of the new bridge (1 s)
