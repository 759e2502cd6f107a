"""Competing command workers, on both backends."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from typing import Any

from sqlalchemy import text

from dialplane.db import SessionFactory, transaction
from dialplane.events import Command, EventStream, NewCommand
from dialplane.testing.events import running


async def send(sessions: SessionFactory, stream: EventStream, *commands: NewCommand) -> None:
    async with transaction(sessions) as session:
        await stream.send(session, *commands)


def originate(key: str, seq: int, **kwargs: Any) -> NewCommand:
    return NewCommand(queue="originate", key=key, type="call.originate", data={"seq": seq}, **kwargs)


async def wait_until(condition: Any, within: float = 20.0) -> None:
    async with asyncio.timeout(within):
        while not condition():
            await asyncio.sleep(0.02)


async def test_each_command_is_taken_once_by_competing_workers_one_at_a_time_per_key(
    sessions: SessionFactory, event_stream: EventStream
) -> None:
    keys, per_key = 30, 8
    handled: list[tuple[str, int]] = []
    busy_keys: set[str] = set()
    overlaps: list[str] = []

    async def handler(_session: object, command: Command) -> None:
        if command.key in busy_keys:
            overlaps.append(command.key)
        busy_keys.add(command.key)
        await asyncio.sleep(random.uniform(0, 0.01))
        busy_keys.discard(command.key)
        handled.append((command.key, command.data["seq"]))

    for seq in range(1, per_key + 1):
        await send(sessions, event_stream, *(originate(f"call-{k}", seq) for k in range(keys)))
    workers = [event_stream.worker("originate", handler, concurrency=4) for _ in range(4)]
    async with running(workers[0]), running(workers[1]), running(workers[2]), running(workers[3]):
        await wait_until(lambda: len(handled) >= keys * per_key)
        await asyncio.sleep(0.3)

    assert max(Counter(handled).values()) == 1 and len(handled) == keys * per_key
    assert overlaps == []
    order: dict[str, list[int]] = {}
    for key, seq in handled:
        order.setdefault(key, []).append(seq)
    assert all(seqs == list(range(1, per_key + 1)) for seqs in order.values())
    async with transaction(sessions) as session:
        assert await session.scalar(text("SELECT count(*) FROM commands")) == 0


async def test_a_command_is_not_taken_before_its_delay(
    sessions: SessionFactory, event_stream: EventStream
) -> None:
    handled: list[float] = []
    loop = asyncio.get_running_loop()

    async def handler(_session: object, _command: Command) -> None:
        handled.append(loop.time())

    started = loop.time()
    await send(sessions, event_stream, originate("k", 1, delay_seconds=1.0))
    async with running(event_stream.worker("originate", handler)):
        await wait_until(lambda: handled)
    assert handled[0] - started >= 1.0


async def test_a_failing_command_is_retried_then_dead_lettered_and_stops_blocking_its_key(
    sessions: SessionFactory, event_stream: EventStream
) -> None:
    attempts: Counter[int] = Counter()
    handled: list[int] = []

    async def handler(session: Any, command: Command) -> None:
        attempts[command.data["seq"]] += 1
        await session.execute(text("SELECT 1"))
        if command.data["seq"] == 1:
            raise ConnectionError("far end refused")
        handled.append(command.data["seq"])

    await send(sessions, event_stream, originate("k", 1), originate("k", 2))
    async with running(event_stream.worker("originate", handler, max_attempts=3)):
        await wait_until(lambda: handled == [2])
    async with transaction(sessions) as session:
        dead = (await session.execute(text("SELECT id, attempts, last_error FROM dead_commands"))).all()
    assert attempts[1] == 3
    assert [(row.id, row.attempts, "far end refused" in row.last_error) for row in dead] == [(1, 3, True)]


async def test_a_handler_failure_rolls_back_its_writes(
    sessions: SessionFactory, event_stream: EventStream, scratch_table: str
) -> None:
    calls = 0

    async def handler(session: Any, _command: Command) -> None:
        nonlocal calls
        calls += 1
        await session.execute(text("INSERT INTO scratch_state VALUES ('written')"))
        if calls == 1:
            raise RuntimeError("fails after writing")

    await send(sessions, event_stream, originate("k", 1))
    async with running(event_stream.worker("originate", handler)):
        await wait_until(lambda: calls >= 2)
        await asyncio.sleep(0.2)
    async with transaction(sessions) as session:
        rows = (await session.execute(text("SELECT id FROM scratch_state"))).scalars().all()
    assert rows == ["written"]  # once: the first attempt's write was rolled back with it
