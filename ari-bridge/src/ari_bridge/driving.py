"""What driving a node means for this bridge: its event socket (:class:`ari_bridge.nodes.Nodes`), a worker
on its own command queue, and — while the bridge drives any node — a worker on the shared queue, where new
calls come from (:mod:`ari_bridge.calls.routing`). The node leases (:mod:`ari_bridge.leases`) call
:meth:`Driving.drive` and :meth:`Driving.release`."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import structlog

from ari_bridge.calls import repository
from ari_bridge.calls.routing import CommandRouter, node_queue
from ari_bridge.capacity import Capacity
from ari_bridge.nodes import Nodes
from dialplane.calls import BRIDGE_QUEUE
from dialplane.db import SessionFactory, transaction
from dialplane.events import CommandHandler, EventStream, Runner

log = structlog.get_logger(__name__)

STOP_TIMEOUT_SECONDS = 10.0


class Driving:
    def __init__(
        self,
        sessions: SessionFactory,
        nodes: Nodes,
        capacity: Capacity,
        stream: EventStream,
        router: CommandRouter,
        concurrency: int,
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        self._sessions = sessions
        self._nodes = nodes
        self._capacity = capacity
        self._stream = stream
        self._router = router
        self._concurrency = concurrency
        self._on_change = on_change  # the trunks' shares changed: report them now
        self._workers: dict[str, tuple[Runner, asyncio.Task[None]]] = {}

    async def drive(self, name: str) -> None:
        async with transaction(self._sessions) as session:
            self._capacity.adopt(name, await repository.active_counts(session))
        await self._nodes.drive(name)
        self._start(node_queue(name), self._router.of_node)
        self._start(BRIDGE_QUEUE, self._router.shared)
        await self._capacity.nodes_changed()
        self._on_change()

    async def release(self, name: str) -> None:
        await self._stop(node_queue(name))
        if not any(self._nodes[other].driven for other in self._nodes if other != name):
            await self._stop(BRIDGE_QUEUE)
        await self._nodes.release(name)
        self._capacity.forget(name)
        await self._capacity.nodes_changed()
        self._on_change()

    async def release_all(self) -> None:
        for name in self._nodes:
            await self.release(name)

    def _start(self, queue: str, handler: CommandHandler) -> None:
        if queue in self._workers:
            return
        worker = self._stream.worker(queue, handler, concurrency=self._concurrency)
        self._workers[queue] = (worker, asyncio.create_task(worker.run(), name=f"worker:{queue}"))

    async def _stop(self, queue: str) -> None:
        entry = self._workers.pop(queue, None)
        if entry is None:
            return
        worker, task = entry
        worker.stop()
        _, pending = await asyncio.wait({task}, timeout=STOP_TIMEOUT_SECONDS)
        for late in pending:
            late.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await late
