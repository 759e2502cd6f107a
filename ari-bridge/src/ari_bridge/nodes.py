"""The Asterisk nodes the bridge drives: per node an ARI client, one supervised event socket for our app and
an ordered dispatcher. After every (re)connect the node is reconciled: calls whose channel vanished while we
were away are ended with a reason, live ones are re-subscribed and their status caught up.

A node that stays unreachable for ``lost_after`` seconds is lost: its calls are ended then (``on_lost``)
rather than when it comes back, since nobody can hear them any more; a lost node that returns takes calls
again (capacity only ever chooses connected nodes)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import structlog

from ari_bridge.ari import AriClient, AriError, AriEvent, AriEventSocket, KeyedDispatcher
from ari_bridge.settings import NodeConfig
from dialplane.db import is_unavailable

log = structlog.get_logger(__name__)

EventHandler = Callable[[AriEvent], Awaitable[None]]
Reconciler = Callable[["NodeRuntime"], Awaitable[None]]
LostHandler = Callable[["NodeRuntime", float], Awaitable[None]]  # the node, seconds it has been down


class EntityIdMismatchError(Exception):
    """The node answering at this address is not the one configured (``entity_id`` differs)."""


RECONCILE_DEBOUNCE_SECONDS = 1.0
RECONCILE_RETRY_SECONDS = 2.0  # after a failed reconciliation
OUTAGE_CHECK_SECONDS = 0.5


@dataclass
class NodeRuntime:
    """A node: its REST client, and while this bridge drives it, its event socket and dispatcher (new ones
    each time it is driven again)."""

    config: NodeConfig
    client: AriClient
    socket: AriEventSocket
    dispatcher: KeyedDispatcher
    reconcile_soon: asyncio.Event = field(default_factory=asyncio.Event)
    driven: bool = False
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def connected(self) -> bool:
        return self.driven and self.socket.connected

    def state(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "driven": self.driven,
            "connected": self.connected,
            "last_error": self.socket.last_error,
        }


class Nodes(Mapping[str, NodeRuntime]):
    """All configured nodes. :meth:`drive` starts one's event socket (this bridge handles its calls),
    :meth:`release` stops it; the node leases (:mod:`ari_bridge.leases`) decide which."""

    def __init__(
        self,
        configs: list[NodeConfig],
        *,
        on_event: EventHandler,
        reconcile: Reconciler,
        on_lost: LostHandler | None = None,
        lost_after: float = 30.0,
        timeout: float = 5.0,
        transport: Any = None,
    ) -> None:
        self._on_event = on_event
        self._reconcile = reconcile
        self._on_lost = on_lost
        self._lost_after = lost_after
        self._nodes = {c.name: self._runtime(c, timeout, transport) for c in configs}

    def _runtime(self, config: NodeConfig, timeout: float, transport: Any) -> NodeRuntime:
        password = config.password.get_secret_value()
        client = AriClient(
            config.ari_url, config.username, password, timeout=timeout, transport=transport, node=config.name
        )
        runtime = NodeRuntime(config, client, *self._socket_and_dispatcher(config))
        return runtime

    def _socket_and_dispatcher(self, config: NodeConfig) -> tuple[AriEventSocket, KeyedDispatcher]:
        name = config.name
        # Room for bursts (1,000 calls starting at once give ~17 events each); an event dropped all the same
        # is a status change lost, so the node is reconciled soon after.
        dispatcher = KeyedDispatcher(
            self._on_event,
            name=name,
            shards=16,
            queue_size=10_000,
            on_drop=lambda: self._nodes[name].reconcile_soon.set(),
        )

        async def connected() -> None:
            runtime = self._nodes[name]
            await _check_entity_id(runtime)
            await self._reconcile(runtime)

        socket = AriEventSocket(
            config.ari_url,  # the socket turns http(s):// into ws(s)://
            config.app,
            config.username,
            config.password.get_secret_value(),
            node=name,
            on_event=lambda event: dispatcher.put(event.channel_id or "", event),
            on_connect=connected,
        )
        return socket, dispatcher

    def __getitem__(self, name: str) -> NodeRuntime:
        return self._nodes[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._nodes)

    def __len__(self) -> int:
        return len(self._nodes)

    def is_connected(self, name: str) -> bool:
        node = self._nodes.get(name)
        return node is not None and node.connected

    async def drive(self, name: str) -> None:
        """Connect to the node's events and handle its calls (reconciled on connect)."""
        node = self._nodes[name]
        if node.driven:
            return
        node.socket, node.dispatcher = self._socket_and_dispatcher(node.config)
        node.reconcile_soon.clear()
        await node.dispatcher.start()
        node.driven = True
        node.tasks = [
            asyncio.create_task(node.socket.run(), name=f"ari-socket:{name}"),
            asyncio.create_task(self._reconcile_when_asked(node), name=f"ari-reconcile:{name}"),
        ]
        if self._on_lost is not None:
            node.tasks.append(
                asyncio.create_task(self._watch_outage(node, self._on_lost), name=f"ari-outage:{name}")
            )
        log.info("ari_node_driven", node=name)

    async def release(self, name: str) -> None:
        """Stop handling the node's events (another bridge may drive it next)."""
        node = self._nodes[name]
        if not node.driven:
            return
        node.driven = False
        await node.socket.stop()
        for task in node.tasks:
            task.cancel()
        await asyncio.gather(*node.tasks, return_exceptions=True)
        node.tasks = []
        await node.dispatcher.stop()
        log.info("ari_node_released", node=name)

    async def _watch_outage(self, node: NodeRuntime, on_lost: LostHandler) -> None:
        """Once per outage, when the node has been unreachable for ``lost_after`` seconds, end its calls
        (tried again while that fails: the database may be unreachable too)."""
        down_since: float | None = None
        handled = False
        while True:
            await asyncio.sleep(OUTAGE_CHECK_SECONDS)
            if node.connected:
                down_since, handled = None, False
                continue
            now = time.monotonic()
            down_since = now if down_since is None else down_since
            if handled or now - down_since < self._lost_after:
                continue
            try:
                await on_lost(node, now - down_since)
            except Exception as exc:
                log.warning("ari_node_lost_not_handled", node=node.name, error=type(exc).__name__)
            else:
                handled = True

    async def _reconcile_when_asked(self, node: NodeRuntime) -> None:
        """Reconcile a connected node after events were dropped or not handled (at most once per debounce
        interval); a reconciliation that fails (the database is unreachable, say) is tried again."""
        while True:
            await node.reconcile_soon.wait()
            await asyncio.sleep(RECONCILE_DEBOUNCE_SECONDS)
            node.reconcile_soon.clear()
            if not node.connected:
                continue  # the next connect reconciles anyway
            try:
                await self._reconcile(node)
            except Exception as exc:
                if is_unavailable(exc):
                    log.warning("ari_reconcile_postponed", node=node.name, error=type(exc).__name__)
                else:
                    log.exception("ari_reconcile_failed", node=node.name)
                await asyncio.sleep(RECONCILE_RETRY_SECONDS)
                node.reconcile_soon.set()

    async def stop(self) -> None:
        for name in self._nodes:
            await self.release(name)
        for node in self._nodes.values():
            await node.client.aclose()


async def _check_entity_id(node: NodeRuntime) -> None:
    if node.config.entity_id is None:
        return
    try:
        info = await node.client.asterisk_info()
    except AriError as exc:
        log.warning("ari_entity_id_unchecked", node=node.name, error=str(exc))
        return
    actual = info.get("system", {}).get("entity_id")
    if actual != node.config.entity_id:
        raise EntityIdMismatchError(
            f"node {node.name}: expected entity id {node.config.entity_id}, Asterisk reports {actual}"
        )
