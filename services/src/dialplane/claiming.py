"""A loop that claims work in batches and processes each item in a task of its own, with at most
``concurrency`` in flight: the shape shared by the event stream's command workers and the dialer's webhook
runner. Claiming (with leases, ``SKIP LOCKED``…) and processing are the caller's; this only schedules.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, Generic, TypeVar

from dialplane.events.wakeup import Signal

Item = TypeVar("Item")


class ClaimLoop(Generic[Item]):
    """Runs until :meth:`stop`, then waits for the items in flight.

    ``signal`` wakes it early (a notification, or a finished item freeing a slot); otherwise it polls every
    ``poll_interval`` seconds while it has nothing to claim or no free slot. Neither ``claim(limit)`` nor
    ``each_round()`` (run before each claim, e.g. to refresh gauges) may raise.
    """

    def __init__(
        self,
        claim: Callable[[int], Awaitable[Sequence[Item]]],
        process: Callable[[Item], Coroutine[Any, Any, None]],
        *,
        concurrency: int,
        poll_interval: float,
        signal: Signal | None = None,
        each_round: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._claim = claim
        self._process = process
        self._concurrency = concurrency
        self._poll_interval = poll_interval
        self._each_round = each_round
        self.signal = signal or Signal()
        self._stopping = False
        self._in_flight: set[asyncio.Task[None]] = set()

    def stop(self) -> None:
        self._stopping = True
        self.signal.set()

    async def run(self) -> None:
        try:
            while not self._stopping:
                if self._each_round is not None:
                    await self._each_round()
                free = self._concurrency - len(self._in_flight)
                claimed = await self._claim(free) if free > 0 else []
                for item in claimed:
                    task = asyncio.create_task(self._process(item))
                    self._in_flight.add(task)
                    task.add_done_callback(self._finished)
                if free == 0 or len(claimed) < free:
                    await self.signal.wait(self._poll_interval)
        finally:
            if self._in_flight:
                await asyncio.gather(*self._in_flight, return_exceptions=True)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        self.signal.set()
