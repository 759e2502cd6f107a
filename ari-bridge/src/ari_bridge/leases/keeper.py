"""Which Asterisk nodes this bridge drives, decided by leases in PostgreSQL (:mod:`.repository`).

Every ``renew_seconds`` each bridge (one per process: :func:`dialplane.capacity.instance_id`) records itself
as alive and claims, in the configured order, up to its fair share of the nodes — ``ceil(nodes / live
bridges)`` — renewing the leases it holds. Nodes beyond its share are handed back (driving stops first, then
the lease is deleted), so a bridge that joins gets nodes within a few renewals.

No node is driven by two bridges: a lease is valid in the database until ``ttl`` after its last renewal,
and the bridge stops driving it locally ``margin`` before that (counted from when the renewal began), so it
has let go before anyone else can claim it. A bridge that dies leaves its leases to expire; the others take
its nodes within ``ttl + renew_seconds``. A clean shutdown deletes its leases at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Awaitable, Callable, Sequence

import structlog
from prometheus_client import Gauge

from ari_bridge.leases import repository
from dialplane.db import SessionFactory, transaction
from dialplane.metrics import NAMESPACE

log = structlog.get_logger(__name__)

DRIVEN = Gauge(
    "ari_node_driven",
    "1 while this bridge holds the node's lease and drives it.",
    ["node"],
    namespace=NAMESPACE,
)

NodeAction = Callable[[str], Awaitable[None]]


class NodeLeases:
    """A runner (``run``/``stop``) keeping this bridge's node leases; ``drive`` and ``release`` start and
    stop handling a node."""

    name = "node-leases"

    def __init__(
        self,
        sessions: SessionFactory,
        nodes: Sequence[str],
        instance: str,
        *,
        drive: NodeAction,
        release: NodeAction,
        ttl_seconds: float,
        renew_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.instance = instance
        self.owners: dict[str, str] = {}  # node -> its owner, as last read
        self._sessions = sessions
        self._nodes = list(nodes)
        self._drive, self._release = drive, release
        self._ttl, self._renew = ttl_seconds, renew_seconds
        self._margin = min(1.0, ttl_seconds / 4)
        self._clock = clock
        self._valid_until: dict[str, float] = {}  # nodes we drive -> when we must have let go
        self._stopping = asyncio.Event()
        for node in self._nodes:
            DRIVEN.labels(node).set(0)

    @property
    def driven(self) -> set[str]:
        return set(self._valid_until)

    def owner(self, node: str) -> str | None:
        return self.instance if node in self._valid_until else self.owners.get(node)

    async def run(self) -> None:
        while not self._stopping.is_set():
            began = self._clock()
            try:
                await self.renew(began)
            except Exception as exc:
                log.warning("node_leases_not_renewed", error=type(exc).__name__)
            await self._let_go_of_expired()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._renew)
        await self._leave()

    def stop(self) -> None:
        self._stopping.set()

    async def renew(self, began: float) -> None:
        """One round: heartbeat, renew ours within our share, claim free nodes up to it, hand back extras."""
        mine = [node for node in self._nodes if node in self._valid_until]
        async with transaction(self._sessions) as session:
            alive = await repository.heartbeat(session, self.instance, self._ttl)
            share = math.ceil(len(self._nodes) / max(alive, 1))
            held = await repository.claim(session, mine[:share], self.instance, self._ttl)
            for node in self._nodes:
                if len(held) >= share:
                    break
                if node not in mine:
                    held += await repository.claim(session, [node], self.instance, self._ttl)
            self.owners = await repository.owners(session)
        for node in held:
            self._valid_until[node] = began + self._ttl - self._margin
            if node not in mine:
                log.info("node_lease_taken", node=node, bridges=alive)
                DRIVEN.labels(node).set(1)
                await self._drive(node)
        await self._hand_back([node for node in mine if node not in held])

    async def _hand_back(self, nodes: list[str]) -> None:
        """Stop driving ``nodes``, then delete their leases so another bridge takes them at once."""
        if not nodes:
            return
        for node in nodes:
            await self._let_go(node)
        async with transaction(self._sessions) as session:
            await repository.release(session, nodes, self.instance)
        log.info("node_leases_handed_back", nodes=nodes)

    async def _let_go(self, node: str) -> None:
        self._valid_until.pop(node, None)
        DRIVEN.labels(node).set(0)
        await self._release(node)

    async def _let_go_of_expired(self) -> None:
        now = self._clock()
        for node, until in list(self._valid_until.items()):
            if now >= until:
                log.warning("node_lease_lost", node=node)  # not renewed in time: someone else may take it
                await self._let_go(node)

    async def _leave(self) -> None:
        for node in list(self._valid_until):
            await self._let_go(node)
        try:
            async with transaction(self._sessions) as session:
                await repository.leave(session, self.instance)
        except Exception as exc:
            log.warning("node_leases_not_released", error=type(exc).__name__)  # they expire by themselves
