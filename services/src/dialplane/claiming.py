"""A loop that claims work in batches and processes each item in a task of its own, with at most
``concurrency`` in flight: the shape shared by the event stream's command workers and the dialer's webhook
runner. Claiming (with leases, ``SKIP LOCKED``…) and processing are the caller's; this only schedules.

An item that has to wait for something other than the loop's own work (an originate waiting for a trunk's
capacity, say) can lend its slot meanwhile (:func:`slot_lent`), so that items which could run (the hang-up
that frees that capacity) are not stuck behind items that wait.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Sequence
from contextvars import ContextVar
from typing import Any, Generic, TypeVar

from dialplane.events.wakeup import Signal

Item = TypeVar("Item")

LENT_PER_SLOT = 10  # default max_lent: items waiting cost a task and a lease's renewals each

_LOOP_OF_ITEM: ContextVar[ClaimLoop[Any] | None] = ContextVar("claim_loop_of_item", default=None)


@contextlib.contextmanager
def slot_lent() -> Iterator[None]:
    """Around a wait of an item being processed by a :class:`ClaimLoop`: its slot goes to another item until
    the block ends (then this item runs on, the loop claiming no more until it is back under its limit).
    At most ``max_lent`` items lend their slots at once (a loop claims at most that many items more than its
    concurrency); beyond that, and outside a loop's item, the block just runs."""
    loop = _LOOP_OF_ITEM.get()
    task = asyncio.current_task() if loop is not None else None
    if loop is None or task is None:
        yield
        return
    with loop.lent(task):
        yield


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
        max_lent: int | None = None,
    ) -> None:
        self._claim = claim
        self._process = process
        self._concurrency = concurrency
        self._max_lent = LENT_PER_SLOT * concurrency if max_lent is None else max_lent
        self._poll_interval = poll_interval
        self._each_round = each_round
        self.signal = signal or Signal()
        self._stopping = False
        self._in_flight: set[asyncio.Task[None]] = set()  # holding a slot
        self._lending: set[asyncio.Task[None]] = set()  # in flight, their slot lent (see slot_lent)

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
                    task = asyncio.create_task(self._process_item(item))
                    self._in_flight.add(task)
                    task.add_done_callback(self._finished)
                if free <= 0 or len(claimed) < free:
                    await self.signal.wait(self._poll_interval)
        finally:
            if self._in_flight or self._lending:
                await asyncio.gather(*self._in_flight, *self._lending, return_exceptions=True)

    @contextlib.contextmanager
    def lent(self, task: asyncio.Task[Any]) -> Iterator[None]:
        """:func:`slot_lent` for one of this loop's tasks."""
        if task not in self._in_flight or len(self._lending) >= self._max_lent:
            yield
            return
        self._in_flight.discard(task)
        self._lending.add(task)
        self.signal.set()
        try:
            yield
        finally:
            self._lending.discard(task)
            self._in_flight.add(task)

    async def _process_item(self, item: Item) -> None:
        _LOOP_OF_ITEM.set(self)  # in this task's own context
        await self._process(item)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        self._lending.discard(task)
        self.signal.set()
