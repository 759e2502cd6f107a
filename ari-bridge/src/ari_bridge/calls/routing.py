"""Commands for calls on nodes another bridge drives.

Every bridge that drives a node takes commands from the shared queue (``ari-bridge``): new calls are placed
on a node it drives. A command about a call that already has a node (hang up, media, a redelivered
originate) must be carried out by the bridge driving that node: if that is not this bridge, the command is
moved, in the same transaction as its acknowledgement, to the node's own queue (``ari-bridge.node.<name>``),
which only the node's current driver takes (:mod:`ari_bridge.leases`). A node nobody drives keeps its
commands until somebody does.
"""

from __future__ import annotations

import dataclasses

import structlog
from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession

from ari_bridge.calls import repository
from ari_bridge.nodes import Nodes
from dialplane.calls import BRIDGE_QUEUE, ORIGINATE
from dialplane.db import SessionFactory, transaction
from dialplane.events import Command, CommandHandler, EventStream, NewCommand
from dialplane.metrics import NAMESPACE

log = structlog.get_logger(__name__)

FORWARDED = Counter(
    "ari_commands_forwarded_total",
    "Commands moved to the queue of the node whose call they are about (another bridge drives it).",
    namespace=NAMESPACE,
)


def node_queue(node: str) -> str:
    return f"{BRIDGE_QUEUE}.node.{node}"


class CommandRouter:
    def __init__(
        self, sessions: SessionFactory, stream: EventStream, nodes: Nodes, handle: CommandHandler
    ) -> None:
        self._sessions = sessions
        self._stream = stream
        self._nodes = nodes
        self._handle = handle

    async def shared(self, session: AsyncSession, command: Command) -> None:
        """A command of the shared queue: carried out here, or moved to its node's queue."""
        node = await self._elsewhere(command)
        if node is None:
            await self._handle(session, command)
            return
        moved = NewCommand(node_queue(node), command.key, command.type, command.data)
        await self._stream.send(session, moved)
        FORWARDED.inc()
        log.info("command_forwarded", call_id=command.key, command_type=command.type, node=node)

    async def _elsewhere(self, command: Command) -> str | None:
        """The node the command's call is on, if another bridge drives it. Looked up in a transaction of its
        own: the worker's session must not hold a connection while the handler takes others."""
        if all(node.driven for node in self._nodes.values()):
            return None  # the common case, one bridge: nothing to look up
        if command.type == ORIGINATE and command.attempt == 1:
            return None  # a new call: placed on a node this bridge drives
        async with transaction(self._sessions) as lookup:
            call = await repository.get(lookup, command.key)
        node = call.node if call is not None else None
        if node is None or node not in self._nodes or self._nodes[node].driven:
            return None
        return node

    async def of_node(self, session: AsyncSession, command: Command) -> None:
        """A command of a node's queue: an originate there was delivered before (the call has its node)."""
        if command.type == ORIGINATE:
            command = dataclasses.replace(command, attempt=max(command.attempt, 2))
        await self._handle(session, command)
