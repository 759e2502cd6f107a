"""At least once: a process killed (SIGKILL) after receiving an event or a command, before acknowledging
it, loses nothing — the event is delivered again to its group, the command goes back to the queue."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from dialplane.db import SessionFactory, transaction
from dialplane.events import Command, EventStream, NewCommand, NewEvent
from dialplane.events.jetstream import JetStreamEventStream
from dialplane.testing.events import Collector, running

VICTIM = Path(__file__).with_name("crash_victim.py")


@pytest.fixture
async def victim(
    database_url: str, event_stream: EventStream, request: pytest.FixtureRequest
) -> AsyncIterator[asyncio.subprocess.Process]:
    """The victim process, on the same backend (and JetStream streams) as ``event_stream``."""
    kind, name = request.param
    jetstream: list[str] = []
    if isinstance(event_stream, JetStreamEventStream):
        jetstream = [event_stream.connection.url, event_stream.layout.prefix]
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(VICTIM), database_url, kind, name, *jetstream, stdout=asyncio.subprocess.PIPE
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


async def received_line(process: asyncio.subprocess.Process) -> str:
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), 30)
    return line.decode().strip()


@pytest.mark.parametrize("victim", [("consumer", "billing")], indirect=True)
async def test_an_event_is_delivered_again_after_its_consumer_was_killed_before_acknowledging(
    sessions: SessionFactory, event_stream: EventStream, victim: asyncio.subprocess.Process
) -> None:
    async with transaction(sessions) as session:
        await event_stream.publish(
            session, *(NewEvent("calls", "call-1", "call.status", {"seq": n}) for n in (1, 2, 3))
        )
    assert await received_line(victim) == "received 1"
    victim.kill()
    await victim.wait()

    collector = Collector()
    async with running(event_stream.consumer("billing", ["calls"], collector.handle)):
        await collector.wait_for(3)
    assert [e.data["seq"] for e in collector.events] == [1, 2, 3]


@pytest.mark.parametrize("victim", [("worker", "originate")], indirect=True)
async def test_a_command_goes_back_to_the_queue_when_its_worker_dies_before_acknowledging(
    sessions: SessionFactory, event_stream: EventStream, victim: asyncio.subprocess.Process
) -> None:
    async with transaction(sessions) as session:
        await event_stream.send(session, NewCommand("originate", "call-1", "call.originate", {"n": 1}))
    assert await received_line(victim) == "received 1"
    victim.kill()
    await victim.wait()

    taken: list[Command] = []

    async def handler(_session: object, command: Command) -> None:
        taken.append(command)

    async with running(event_stream.worker("originate", handler, lease_seconds=1.0)):
        async with asyncio.timeout(15):
            while not taken:
                await asyncio.sleep(0.05)
    assert [(c.id, c.attempt) for c in taken] == [(1, 2)]
