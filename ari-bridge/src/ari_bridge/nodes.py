"""The Asterisk nodes the bridge drives: per node an ARI client, one supervised event socket for our app and
an ordered dispatcher. After every (re)connect the node is reconciled: calls whose channel vanished while we
were away are ended with a reason, live ones are re-subscribed and their status caught up."""

from __future__ import annotations

import asyncio
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


class EntityIdMismatchError(Exception):
    """The node answering at this address is not the one configured (``entity_id`` differs)."""


RECONCILE_DEBOUNCE_SECONDS = 1.0
RECONCILE_RETRY_SECONDS = 2.0  # after a failed reconciliation


@dataclass
class NodeRuntime:
    config: NodeConfig
    client: AriClient
    socket: AriEventSocket
    dispatcher: KeyedDispatcher
    reconcile_soon: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def connected(self) -> bool:
        return self.socket.connected

    def state(self) -> dict[str, Any]:
        return {"name": self.name, "connected": self.connected, "last_error": self.socket.last_error}


class Nodes(Mapping[str, NodeRuntime]):
    """All configured nodes, started and stopped together."""

    def __init__(
        self,
        configs: list[NodeConfig],
        *,
        on_event: EventHandler,
        reconcile: Reconciler,
        timeout: float = 5.0,
        transport: Any = None,
    ) -> None:
        self._reconcile = reconcile
        self._nodes = {c.name: self._runtime(c, on_event, reconcile, timeout, transport) for c in configs}
        self._tasks: list[asyncio.Task[None]] = []

    def _runtime(
        self,
        config: NodeConfig,
        on_event: EventHandler,
        reconcile: Reconciler,
        timeout: float,
        transport: Any,
    ) -> NodeRuntime:
        password = config.password.get_secret_value()
        client = AriClient(
            config.ari_url, config.username, password, timeout=timeout, transport=transport, node=config.name
        )
        runtime: NodeRuntime
        # Room for bursts (1,000 calls starting at once give ~17 events each); an event dropped all the same
        # is a status change lost, so the node is reconciled soon after.
        dispatcher = KeyedDispatcher(
            on_event,
            name=config.name,
            shards=16,
            queue_size=10_000,
            on_drop=lambda: runtime.reconcile_soon.set(),
        )

        async def connected() -> None:
            await _check_entity_id(runtime)
            await reconcile(runtime)

        socket = AriEventSocket(
            config.ari_url,  # the socket turns http(s):// into ws(s)://
            config.app,
            config.username,
            password,
            node=config.name,
            on_event=lambda event: dispatcher.put(event.channel_id or "", event),
            on_connect=connected,
        )
        runtime = NodeRuntime(config, client, socket, dispatcher)
        return runtime

    def __getitem__(self, name: str) -> NodeRuntime:
        return self._nodes[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._nodes)

    def __len__(self) -> int:
        return len(self._nodes)

    def is_connected(self, name: str) -> bool:
        node = self._nodes.get(name)
        return node is not None and node.connected

    async def start(self) -> None:
        for node in self._nodes.values():
            await node.dispatcher.start()
            self._tasks.append(asyncio.create_task(node.socket.run(), name=f"ari-socket:{node.name}"))
            self._tasks.append(
                asyncio.create_task(self._reconcile_when_asked(node), name=f"ari-reconcile:{node.name}")
            )

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
        for node in self._nodes.values():
            await node.socket.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for node in self._nodes.values():
            await node.dispatcher.stop()
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
