"""Bringing our records in line with a node after every (re)connect, and ending calls that ran too long.

While the event socket is down Asterisk drops our events. After a connect: every call we believe active on
the node whose channel no longer exists ended while we were away (failed, with that reason); a call whose
channel still exists is re-subscribed and its status caught up from the channel's state; a channel whose
call we already ended (its node was lost, see :mod:`ari_bridge.nodes`) is hung up.

A node unreachable for longer than ``node_lost_after_seconds`` is lost: its calls end as failed at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import structlog

from ari_bridge.ari import AriError, AriNotFoundError
from ari_bridge.calls import repository
from ari_bridge.calls.placing import Placing
from ari_bridge.calls.service import CallTracker
from ari_bridge.capacity import Capacity
from ari_bridge.nodes import NodeRuntime, Nodes
from dialplane.calls import CallStatus
from dialplane.db import SessionFactory, transaction

log = structlog.get_logger(__name__)

VANISHED = "the channel ended while the bridge was not connected to Asterisk or could not record it"
LOST = "Asterisk node {node} was unreachable for {seconds} s: the call was ended without it"
STATE_TO_STATUS = {"Ringing": CallStatus.RINGING, "Up": CallStatus.ANSWERED}


class Reconciler:
    def __init__(
        self, sessions: SessionFactory, tracker: CallTracker, capacity: Capacity, placing: Placing
    ) -> None:
        self._sessions = sessions
        self._tracker = tracker
        self._capacity = capacity
        self._placing = placing

    async def __call__(self, node: NodeRuntime) -> None:
        # In this order: a call recorded before the read is either being placed by this process as the
        # channels are listed (its channel may come after the list) or has its channel in the list.
        async with transaction(self._sessions) as session:
            calls = await repository.active_on_node(session, node.name)
        placing = self._placing.now()
        channels = {channel["id"]: channel for channel in await node.client.list_channels()}
        ended = adopted = 0
        for call in calls:
            channel = channels.get(call.call_id)
            if channel is None and call.call_id in placing:
                continue  # its originate decides: a refusal fails it, a channel reports its events
            if channel is None:
                await self._end(call, VANISHED)
                ended += 1
            else:
                await self._adopt(node, call, channel)
                adopted += 1
        orphans = await self._hang_up_orphans(node, list(channels))
        await self._capacity.nodes_changed()
        log.info(
            "ari_node_reconciled",
            node=node.name,
            channels=len(channels),
            ended=ended,
            adopted=adopted,
            orphans_hung_up=orphans,
        )

    async def end_lost(self, node: NodeRuntime, down_for: float) -> None:
        """The node has been unreachable too long: end every call we have on it."""
        async with transaction(self._sessions) as session:
            calls = await repository.active_on_node(session, node.name)
        reason = LOST.format(node=node.name, seconds=round(down_for))
        for call in calls:
            await self._end(call, reason)
        log.warning("ari_node_lost", node=node.name, calls_ended=len(calls), down_seconds=round(down_for, 1))

    async def _end(self, call: repository.BridgeCall, reason: str) -> None:
        async with transaction(self._sessions) as session:
            transition = await self._tracker.fail(session, call.call_id, reason)
        if transition is not None:
            await self._capacity.release(call.node, call.trunk)

    async def _hang_up_orphans(self, node: NodeRuntime, channel_ids: list[str]) -> int:
        """Hang up the channels of calls that already ended in our records (the node came back after it
        was lost): nobody follows them any more."""
        async with transaction(self._sessions) as session:
            ended = await repository.ended_on_node(session, node.name, channel_ids)
        for call_id in ended:
            with contextlib.suppress(AriError):
                await node.client.hangup(call_id)
        return len(ended)

    async def _adopt(self, node: NodeRuntime, call: repository.BridgeCall, channel: dict[str, Any]) -> None:
        with contextlib.suppress(AriNotFoundError):
            await node.client.subscribe(node.config.app, f"channel:{call.call_id}")
        status = STATE_TO_STATUS.get(str(channel.get("state")))
        if status is not None and status != call.status:
            async with transaction(self._sessions) as session:
                await self._tracker.move(session, call.call_id, status)


async def enforce_max_duration(sessions: SessionFactory, nodes: Nodes, interval: float) -> None:
    """Hang up answered calls that passed their maximum duration (runs until cancelled)."""
    while True:
        await asyncio.sleep(interval)
        try:
            await _hang_up_overdue(sessions, nodes)
        except Exception:
            log.exception("max_duration_check_failed")


async def _hang_up_overdue(sessions: SessionFactory, nodes: Nodes) -> None:
    async with transaction(sessions) as session:
        overdue = await repository.claim_overdue(session)
    for call in overdue:
        node = nodes.get(call.node or "")
        if node is None:
            continue
        log.info("call_max_duration_reached", call_id=call.call_id, max_seconds=call.max_duration_seconds)
        with contextlib.suppress(AriError):
            await node.client.hangup(call.call_id)
