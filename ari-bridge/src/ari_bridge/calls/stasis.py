"""ARI event handlers: what Asterisk reports about our channels becomes call status changes.

Handlers run per channel in arrival order (the node's :class:`~ari_bridge.ari.KeyedDispatcher`), each in a
short transaction of its own. Events about channels that are not our calls are ignored.

StasisStart means the far end answered. For a call with answering-machine detection, the first one starts the
detection (see :mod:`ari_bridge.calls.service`) and the call is answered when the channel comes back from the
``dialplane-amd`` context: ``Stasis(app,amd,STATUS,CAUSE)``.
"""

from __future__ import annotations

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from ari_bridge.ari import AriEvent, ChannelDestroyed, ChannelStateChange, Dial, StasisStart
from ari_bridge.calls.media import (
    BRIDGE_MEDIA,
    JOIN_TRANSFER,
    MEDIA_GONE,
    call_of_media_channel,
    call_of_transfer_channel,
)
from ari_bridge.calls.service import CallTracker, Transition
from ari_bridge.capacity import Capacity
from dialplane.calls import BRIDGE_QUEUE, AnsweredBy, CallStatus
from dialplane.db import SessionFactory, transaction
from dialplane.events import EventStream, NewCommand

log = structlog.get_logger(__name__)

RINGING_DIAL_STATUSES = frozenset({"RINGING", "PROGRESS"})
AMD_ANSWERED_BY = {"HUMAN": AnsweredBy.HUMAN, "MACHINE": AnsweredBy.MACHINE}


class ChannelEvents:
    def __init__(
        self, sessions: SessionFactory, tracker: CallTracker, capacity: Capacity, stream: EventStream
    ) -> None:
        self._stream = stream
        self._sessions = sessions
        self._tracker = tracker
        self._capacity = capacity

    async def handle(self, event: AriEvent) -> None:
        call_id = event.channel_id
        if call_id is None or not _may_change_status(event) or ";" in call_id:
            return  # most events (variables, dialplan steps, the Local ;2 halves) never touch the database
        if (media_of := call_of_media_channel(call_id) or call_of_transfer_channel(call_id)) is not None:
            await self._side_channel_event(media_of, call_id, event)
            return
        with structlog.contextvars.bound_contextvars(call_id=call_id):
            transition = await self._apply(call_id, event)
        if transition is not None and transition.after.is_terminal:
            await self._capacity.release(transition.before.node, transition.before.trunk)

    async def _apply(self, call_id: str, event: AriEvent) -> Transition | None:
        async with transaction(self._sessions) as session:
            if isinstance(event, ChannelDestroyed):
                return await self._tracker.end(
                    session, call_id, cause=event.cause, cause_text=event.cause_txt, sip_code=event.tech_cause
                )
            if isinstance(event, StasisStart):
                return await self._stasis_start(session, call_id, event.args)
            if _is_ringing(event):
                return await self._tracker.move(session, call_id, CallStatus.RINGING)
        return None

    async def _side_channel_event(self, call_id: str, channel_id: str, event: AriEvent) -> None:
        """The agent's media channel or the transfer's channel of a call: StasisStart means the agent has
        connected (join it) or the transfer was answered (join them, the agent leaves); when one is gone the
        call ends unless the other is still with the person."""
        joined = JOIN_TRANSFER if call_of_transfer_channel(channel_id) else BRIDGE_MEDIA
        if isinstance(event, StasisStart):
            step = NewCommand(BRIDGE_QUEUE, call_id, joined, {"call_id": call_id})
        elif isinstance(event, ChannelDestroyed):
            step = NewCommand(BRIDGE_QUEUE, call_id, MEDIA_GONE, {"call_id": call_id})
        else:
            return
        async with transaction(self._sessions) as session:
            await self._stream.send(session, step)

    async def _stasis_start(self, session: AsyncSession, call_id: str, args: list[str]) -> Transition | None:
        if _is_amd_result(args):
            log.info("call_machine_detection_result", amd_status=args[1], amd_cause=",".join(args[2:]))
        return await self._tracker.answer(session, call_id, _answered_by(args))


def _may_change_status(event: AriEvent) -> bool:
    return isinstance(event, ChannelDestroyed | StasisStart) or _is_ringing(event)


def _is_ringing(event: AriEvent) -> bool:
    if isinstance(event, Dial):
        return event.dialstatus in RINGING_DIAL_STATUSES
    return isinstance(event, ChannelStateChange) and event.channel.state == "Ringing"


def _is_amd_result(args: list[str]) -> bool:
    """``Stasis(app,amd,STATUS,CAUSE)``: the channel is back from the answering-machine context."""
    return len(args) >= 2 and args[0] == "amd"


def _answered_by(args: list[str]) -> AnsweredBy | None:
    """Who answered, from an AMD result (MACHINE, HUMAN; NOTSURE and HANGUP are unknown); else None."""
    if _is_amd_result(args):
        return AMD_ANSWERED_BY.get(args[1], AnsweredBy.UNKNOWN)
    return None
