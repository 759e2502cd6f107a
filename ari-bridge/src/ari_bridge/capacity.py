"""Capacity: where a new call may go, and when.

A call needs a slot on its trunk (``max_concurrent``), its turn under the trunk's calls-per-second limit
(calls spaced at least ``1 / max_cps`` apart), and a connected node with spare channels
(``max_channels``); the least-loaded such node is chosen. :meth:`Capacity.acquire` waits until all three
hold, so limits are never exceeded; :meth:`Capacity.release` frees the slot when the call ends. The
counters of a node are restored from the database when this bridge starts to drive it
(:meth:`Capacity.adopt`).

Each trunk's limit and calls in use are reported to the dialer's pacing in ``capacity_reports``
(:meth:`Capacity.reports`, resource ``trunk:<name>``; see :mod:`dialplane.capacity`).

With several bridges (each driving some of the nodes, :mod:`ari_bridge.leases`) a trunk's limits are
shared: a bridge may use the fraction of ``max_concurrent`` and ``max_cps`` that its driven nodes' channels
are of all nodes' channels (rounded down), so together the bridges never exceed a limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from prometheus_client import Gauge

from ari_bridge.settings import NodeConfig, TrunkConfig
from dialplane.capacity import CapacityReport, trunk_resource
from dialplane.metrics import NAMESPACE

ACTIVE_CALLS = Gauge(
    "ari_active_calls",
    "Calls the bridge is placing or tracking, by node and trunk.",
    ["node", "trunk"],
    namespace=NAMESPACE,
)


class NoSuchTrunkError(LookupError):
    """The command names a trunk that is not configured."""


@dataclass
class _Trunk:
    config: TrunkConfig
    active: int = 0
    next_start: float = 0.0  # monotonic time before which no new call may start (calls-per-second)


@dataclass
class _Node:
    config: NodeConfig
    active: int = 0
    per_trunk: dict[str, int] = field(default_factory=dict)


class Capacity:
    def __init__(
        self,
        nodes: Iterable[NodeConfig],
        trunks: Iterable[TrunkConfig],
        *,
        is_connected: Callable[[str], bool],
        is_driven: Callable[[str], bool] = lambda _node: True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._nodes = {n.name: _Node(n) for n in nodes}
        self._trunks = {t.name: _Trunk(t) for t in trunks}
        self._is_connected = is_connected
        self._is_driven = is_driven
        self._clock = clock
        self._changed = asyncio.Condition()

    def adopt(self, node: str, counts: Mapping[tuple[str, str], int]) -> None:
        """Count the active calls of a node this bridge starts to drive (``(node, trunk) -> calls``; other
        nodes' entries are ignored)."""
        for (of_node, trunk), calls in counts.items():
            if of_node == node and node in self._nodes and trunk in self._trunks:
                self._take(node, trunk, calls)

    def forget(self, node: str) -> None:
        """Stop counting a node's calls: another bridge drives it now."""
        entry = self._nodes.get(node)
        if entry is not None:
            for trunk, calls in list(entry.per_trunk.items()):
                self._take(node, trunk, -calls)

    async def acquire(self, trunk: str) -> str:
        """Wait for a slot on ``trunk`` and a node; returns the node's name."""
        if trunk not in self._trunks:
            raise NoSuchTrunkError(trunk)
        async with self._changed:
            while True:
                node, wait = self._try(self._trunks[trunk])
                if node is not None:
                    self._take(node, trunk, 1)
                    return node
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), wait)

    def try_acquire(self, trunk: str, *, within: float = 0.0) -> tuple[str, float] | None:
        """A slot on ``trunk`` and a node if the call may start within ``within`` seconds: ``(node, seconds
        until its turn under the calls-per-second limit)``, the slot and the turn taken; None (nothing taken)
        if the call would have to wait longer."""
        if trunk not in self._trunks:
            raise NoSuchTrunkError(trunk)
        node, delay = self._try(self._trunks[trunk], within)
        if node is None:
            return None
        self._take(node, trunk, 1)
        return node, delay

    async def release(self, node: str | None, trunk: str) -> None:
        if node not in self._nodes or trunk not in self._trunks:
            return
        async with self._changed:
            self._take(node, trunk, -1)
            self._changed.notify_all()

    async def nodes_changed(self) -> None:
        """A node connected or disconnected: waiting calls look again."""
        async with self._changed:
            self._changed.notify_all()

    def snapshot(self) -> dict[str, dict[str, int]]:
        return {
            name: {"active": n.active, "max_channels": n.config.max_channels}
            for name, n in self._nodes.items()
        }

    def reports(self) -> list[CapacityReport]:
        """Per trunk: its ``max_concurrent`` and the calls it carries now."""
        return [
            CapacityReport(trunk_resource(name), capacity=self._max_concurrent(trunk), in_use=trunk.active)
            for name, trunk in self._trunks.items()
        ]

    def share(self) -> float:
        """The fraction of every trunk's limits this bridge may use: its driven nodes' share of channels."""
        total = sum(n.config.max_channels for n in self._nodes.values())
        driven = sum(n.config.max_channels for n in self._nodes.values() if self._is_driven(n.config.name))
        return driven / total if total else 0.0

    def _max_concurrent(self, trunk: _Trunk) -> int:
        return math.floor(trunk.config.max_concurrent * self.share() + 1e-9)

    def _try(self, trunk: _Trunk, within: float = 0.0) -> tuple[str | None, float]:
        """A node for a call whose turn comes within ``within`` seconds, and the seconds until that turn (the
        turn is taken); else ``(None, seconds worth waiting before looking again)``."""
        share = self.share()
        if trunk.active >= self._max_concurrent(trunk) or share == 0:
            return None, 1.0
        now = self._clock()
        if now + within < trunk.next_start:
            return None, trunk.next_start - now - within
        free = [
            n
            for n in self._nodes.values()
            if n.active < n.config.max_channels and self._is_connected(n.config.name)
        ]
        if not free:
            return None, 1.0
        start = max(now, trunk.next_start)
        trunk.next_start = start + self._turn_length(trunk)
        best = min(free, key=lambda n: n.active / n.config.max_channels)
        return best.config.name, start - now

    def _turn_length(self, trunk: _Trunk) -> float:
        """Seconds between two calls' starts under the trunk's calls-per-second limit (our share)."""
        return 1.0 / (trunk.config.max_cps * self.share())

    def _take(self, node: str, trunk: str, calls: int) -> None:
        self._trunks[trunk].active = max(self._trunks[trunk].active + calls, 0)
        entry = self._nodes[node]
        entry.active = max(entry.active + calls, 0)
        entry.per_trunk[trunk] = max(entry.per_trunk.get(trunk, 0) + calls, 0)
        ACTIVE_CALLS.labels(node, trunk).set(entry.per_trunk[trunk])
