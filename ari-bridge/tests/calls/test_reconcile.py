"""Reconciling after a (re)connect, against a node whose channel list is given: a call this bridge is still
placing is left to its originate, whatever the list says; any other call without a channel ended while we
were away."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from ari_bridge.calls import repository
from ari_bridge.calls.placing import Placing
from ari_bridge.calls.reconcile import VANISHED, Reconciler
from ari_bridge.calls.service import CallTracker, NewCall
from ari_bridge.capacity import Capacity
from ari_bridge.nodes import NodeRuntime
from ari_bridge.settings import NodeConfig, TrunkConfig
from dialplane.calls import CallStatus
from dialplane.db import SessionFactory, transaction
from dialplane.events import PostgresEventStream

NODE = NodeConfig(name="local", max_channels=10)
TRUNK = TrunkConfig(name="t", dial_string="Local/{number}@x", max_concurrent=10, max_cps=100)


@dataclass
class ListedChannels:
    """The part of an ARI client a reconcile uses: the channels Asterisk lists (none here)."""

    channels: list[dict[str, Any]] = field(default_factory=list)

    async def list_channels(self) -> list[dict[str, Any]]:
        return self.channels

    async def hangup(self, _channel_id: str) -> None:
        raise AssertionError("no channel to hang up")


@dataclass
class Node:
    config: NodeConfig
    client: ListedChannels

    @property
    def name(self) -> str:
        return self.config.name


async def dialing_call(sessions: SessionFactory, tracker: CallTracker, call_id: str) -> None:
    new = NewCall(call_id, "+12025550100", "t", None, 30, None, False, {})
    async with transaction(sessions) as session:
        assert await tracker.record_dialing(session, new, NODE.name) is not None


async def status_of(sessions: SessionFactory, call_id: str) -> tuple[CallStatus, str | None]:
    async with transaction(sessions) as session:
        call = await repository.get(session, call_id)
    assert call is not None
    return call.status, call.failure_reason


async def test_a_call_being_placed_survives_a_reconcile_whose_channel_list_predates_its_channel(
    sessions: SessionFactory, event_stream: PostgresEventStream
) -> None:
    tracker = CallTracker(event_stream)
    placing = Placing()
    reconcile = Reconciler(sessions, tracker, Capacity([NODE], [TRUNK], is_connected=lambda _: True), placing)
    await dialing_call(sessions, tracker, "being-placed")
    await dialing_call(sessions, tracker, "left-behind")  # by a bridge that died before its POST
    node = cast(NodeRuntime, Node(NODE, ListedChannels()))

    with placing.call("being-placed"):
        await reconcile(node)

    assert await status_of(sessions, "being-placed") == (CallStatus.DIALING, None)
    assert await status_of(sessions, "left-behind") == (CallStatus.FAILED, VANISHED)
