"""The call a command is about, with its node, while it is still going on."""

from __future__ import annotations

from ari_bridge.calls import repository
from ari_bridge.calls.repository import BridgeCall
from ari_bridge.nodes import NodeRuntime, Nodes
from dialplane.db import SessionFactory, transaction


async def live_call(
    sessions: SessionFactory, nodes: Nodes, call_id: str
) -> tuple[BridgeCall, NodeRuntime] | None:
    """The call and its node, unless it has ended (or is unknown, or its node is not configured)."""
    async with transaction(sessions) as session:
        call = await repository.get(session, call_id)
    runtime = nodes.get(call.node or "") if call is not None else None
    if call is None or runtime is None or call.status.is_terminal:
        return None
    return call, runtime
