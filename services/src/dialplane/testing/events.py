"""Test helpers for code that consumes the event stream: a collecting handler and a runner context."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from dialplane.db import SessionFactory, transaction
from dialplane.events import Event, Runner


@dataclass
class Collector:
    """An event handler that records what a consumer group received, in delivery order."""

    events: list[Event] = field(default_factory=list)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def handle(self, _session: AsyncSession, event: Event) -> None:
        async with self.changed:
            self.events.append(event)
            self.changed.notify_all()

    async def wait_for(self, count: int, within: float = 20.0) -> list[Event]:
        """Wait until at least ``count`` events arrived (raises ``TimeoutError`` after ``within`` s)."""
        async with asyncio.timeout(within), self.changed:
            await self.changed.wait_for(lambda: len(self.events) >= count)
        return self.events

    @property
    def ids(self) -> list[int]:
        return [e.id for e in self.events]


@contextlib.asynccontextmanager
async def running(runner: Runner, stop_timeout: float = 10.0) -> AsyncIterator[Runner]:
    """Run a consumer or worker in the background for the duration of the block. Unlike
    :func:`dialplane.runners.running`, which logs a crashed runner, this re-raises its error, so the test
    fails."""
    task = asyncio.create_task(runner.run())
    try:
        yield runner
    finally:
        runner.stop()
        await asyncio.wait_for(task, stop_timeout)


async def wait_until_events_deliverable(sessions: SessionFactory) -> None:
    """Until every stored event is below the visibility horizon (open transactions of other databases on
    the server hold it back too), so that one consumer or relay batch can take them all."""
    query = text("SELECT max(tx_id) < pg_snapshot_xmin(pg_current_snapshot()) FROM events")
    async with asyncio.timeout(20):
        while True:
            async with transaction(sessions) as session:
                if await session.scalar(query):
                    return
            await asyncio.sleep(0.05)
