"""The audio path of agent calls: an answered call is put in a mixing bridge with a chan_websocket media
channel, and an AI agent is asked to connect to that channel's WebSocket and talk.

1. ``call.connect_agent`` (sent by the tracker when an agent call is answered): a mixing bridge with the call
   id as its id, the call's channel in it, and ``POST /channels/externalMedia`` (chan_websocket, server
   mode, 16 kHz signed linear) for the media channel ``media-{call id}``; then the ``agent.converse``
   command for the AI agents with the media URL (``ws://<node>/media/<connection id>``).
2. The agent connects; the media channel enters Stasis; ``call.bridge_media`` adds it to the bridge.
3. The call ends: ``call.release_media`` hangs up the media channel and destroys the bridge. If instead the
   media channel goes away while the call is up (the agent left or crashed), the call is hung up: nobody
   would talk to the person any more.

Transfer to a person (``call.transfer``, sent by the agent): the destination (an E.164 number, dialed on
the call's trunk, or a channel endpoint such as ``PJSIP/100@office``) is dialed as ``transfer-{call id}``;
once it answers it joins the bridge and the agent's media channel is hung up (the agent leaves; its channel
going away no longer ends the call). If nobody answers, the agent stays on the call.

An agent that has not connected ``abandon_after_seconds`` (2 s) after a person answered makes the call
abandoned: the person hears the identification message and the call ends (:mod:`ari_bridge.calls.abandon`).
A machine-answered call whose agent has not connected within ``agent_connect_timeout_seconds`` is hung up.

Every step is idempotent (ids are ours; 404/409 from a repeated step mean it happened), so a redelivered
command does no harm.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from urllib.parse import urlsplit, urlunsplit

import structlog
from pydantic import BaseModel, Field

from ari_bridge.ari import AriConflictError, AriError, AriNotFoundError
from ari_bridge.calls import repository
from ari_bridge.calls.abandon import ABANDONED_CALLS, AgentDeadlines, AgentWaits, abandon_reason, is_abandoned
from ari_bridge.calls.live import live_call
from ari_bridge.calls.repository import BridgeCall
from ari_bridge.nodes import NodeRuntime, Nodes
from ari_bridge.settings import Settings
from dialplane.calls import AGENT_QUEUE, BRIDGE_QUEUE, CONVERSE, HANGUP, AnsweredBy, media_channel_id
from dialplane.db import SessionFactory, transaction
from dialplane.events import EventStream, NewCommand

log = structlog.get_logger(__name__)

CONNECT_AGENT = "call.connect_agent"
BRIDGE_MEDIA = "call.bridge_media"
RELEASE_MEDIA = "call.release_media"
CHECK_AGENT = "call.check_agent"
TRANSFER = "call.transfer"
JOIN_TRANSFER = "call.join_transfer"
MEDIA_GONE = "call.media_gone"
MEDIA_COMMANDS = frozenset(
    {CONNECT_AGENT, BRIDGE_MEDIA, RELEASE_MEDIA, CHECK_AGENT, TRANSFER, JOIN_TRANSFER, MEDIA_GONE}
)

MEDIA_FORMAT = "slin16"
CONNECTION_ID_VARIABLE = "MEDIA_WEBSOCKET_CONNECTION_ID"
MEDIA_PREFIX = "media-"
TRANSFER_PREFIX = "transfer-"


class MediaRequest(BaseModel):
    call_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
    destination: str | None = Field(default=None, pattern=r"^(\+[1-9][0-9]{6,14}|[A-Za-z]+/[^\s,]{1,200})$")
    ready_at: dt.datetime | None = None  # call.connect_agent: when the call was answered (or AMD's verdict)


def agent_commands(call_id: str, ready_at: dt.datetime, wait_seconds: float) -> list[NewCommand]:
    """What an answered agent call needs: its agent, and a check ``wait_seconds`` after ``ready_at`` (its own
    key: a delayed command would hold back the call's later commands)."""
    return [
        NewCommand(
            BRIDGE_QUEUE, call_id, CONNECT_AGENT, {"call_id": call_id, "ready_at": ready_at.isoformat()}
        ),
        NewCommand(
            BRIDGE_QUEUE,
            f"{call_id}:check-agent",
            CHECK_AGENT,
            {"call_id": call_id},
            delay_seconds=wait_seconds,
        ),
    ]


def call_of_media_channel(channel_id: str) -> str | None:
    """The call id of a media channel id, or None for any other channel."""
    return channel_id.removeprefix(MEDIA_PREFIX) if channel_id.startswith(MEDIA_PREFIX) else None


def call_of_transfer_channel(channel_id: str) -> str | None:
    """The call id of a transfer channel id (``transfer-{call id}``; its Local ``;2`` half excluded)."""
    if not channel_id.startswith(TRANSFER_PREFIX) or ";" in channel_id:
        return None
    return channel_id.removeprefix(TRANSFER_PREFIX)


def media_url(ari_url: str, connection_id: str) -> str:
    """``http://host:8088/ari`` → ``ws://host:8088/media/<connection id>`` (https → wss)."""
    parts = urlsplit(ari_url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return urlunsplit((scheme, parts.netloc, f"/media/{connection_id}", "", ""))


class AgentMedia:
    def __init__(
        self, sessions: SessionFactory, stream: EventStream, nodes: Nodes, settings: Settings
    ) -> None:
        self._sessions = sessions
        self._stream = stream
        self._nodes = nodes
        self._settings = settings
        self._waits = AgentWaits.of(settings)
        self.deadlines = AgentDeadlines(self._check_at_deadline)

    async def handle(self, command_type: str, request: MediaRequest) -> None:
        live = await live_call(self._sessions, self._nodes, request.call_id)
        if command_type == RELEASE_MEDIA:
            await self.release(request.call_id)
        elif live is None:
            log.info("media_call_not_live", command_type=command_type)
        elif is_abandoned(live[0].failure_reason):
            await self._after_abandon(command_type, live[1], request.call_id)
        elif command_type == CONNECT_AGENT:
            await self.connect(*live, ready_at=request.ready_at or dt.datetime.now(dt.UTC))
        elif command_type == BRIDGE_MEDIA:
            await self.bridge(*live)
        elif command_type == CHECK_AGENT:
            await self.check_agent(*live)
        elif command_type == TRANSFER and request.destination:
            await self.transfer(*live, request.destination)
        elif command_type == JOIN_TRANSFER:
            await self.join_transfer(*live)
        elif command_type == MEDIA_GONE:
            await self.media_gone(*live)

    async def connect(self, call: BridgeCall, runtime: NodeRuntime, *, ready_at: dt.datetime) -> None:
        client, channel = runtime.client, media_channel_id(call.call_id)
        try:
            await client.create_bridge(call.call_id)
            await client.add_to_bridge(call.call_id, [call.call_id])
            connection_id = await self._media_channel(runtime, channel)
        except AriNotFoundError:
            log.info("media_call_channel_gone")
            return
        except AriError as exc:
            log.warning("media_setup_failed", error=str(exc))
            await self._no_agent(call, runtime, "the audio path to the AI agent could not be set up")
            return
        data = {
            "call_id": call.call_id,
            "media_url": media_url(runtime.config.ari_url, connection_id),
            "media_format": MEDIA_FORMAT,
            "answered_by": call.answered_by,
            "answered_at": call.answered_at.isoformat() if call.answered_at else None,
            "node": runtime.name,
        }
        async with transaction(self._sessions) as session:
            await self._stream.send(session, NewCommand(AGENT_QUEUE, call.call_id, CONVERSE, data))
        left = self.deadlines.start(call.call_id, ready_at, self._waits.for_call(call.answered_by))
        log.info("media_channel_waiting_for_agent", seconds_left=round(left, 3))

    async def _media_channel(self, runtime: NodeRuntime, channel: str) -> str:
        """Create the media channel (or find the one an earlier attempt made) and return its connection id."""
        try:
            created = await runtime.client.external_media_websocket(
                app=runtime.config.app, channel_id=channel, media_format=MEDIA_FORMAT
            )
        except AriConflictError:
            return await runtime.client.get_variable(channel, CONNECTION_ID_VARIABLE)
        return str(created.get("channelvars", {}).get(CONNECTION_ID_VARIABLE, ""))

    async def bridge(self, call: BridgeCall, runtime: NodeRuntime) -> None:
        """The agent has connected (its media channel is in Stasis): let the two hear each other."""
        try:
            await runtime.client.add_to_bridge(call.call_id, [media_channel_id(call.call_id)])
        except AriError as exc:
            log.warning("media_bridge_failed", error=str(exc))
            await self._hang_up(call.call_id, "the AI agent's audio could not be joined to the call")
            return
        seconds = self.deadlines.connected(call.call_id)
        log.info("media_agent_connected", connect_seconds=None if seconds is None else round(seconds, 3))

    async def check_agent(self, call: BridgeCall, runtime: NodeRuntime) -> None:
        """At the agent's deadline: a call whose agent has not connected is abandoned (a person answered) or
        hung up (a machine did); the person is never left in silence — not even when the media channel was
        never made (``call.connect_agent`` failed or is late)."""
        if call.hangup_requested or call.failure_reason is not None:
            return  # being hung up already (the agent came and went, or hung up)
        try:
            connected = await self._agent_connected(runtime, call.call_id)
        except AriError as exc:
            log.warning("media_check_failed", error=str(exc))
            return
        if not connected:
            log.warning("media_agent_not_connected_in_time")
            await self._no_agent(call, runtime, "no AI agent took the call")

    async def _agent_connected(self, runtime: NodeRuntime, call_id: str) -> bool:
        """The agent's media channel is up, or the agent has handed the call to a person (a transfer)."""
        with contextlib.suppress(AriNotFoundError):
            if (await runtime.client.get_channel(media_channel_id(call_id))).get("state") == "Up":
                return True
        with contextlib.suppress(AriNotFoundError):
            await runtime.client.get_channel(f"{TRANSFER_PREFIX}{call_id}")
            return True
        return False

    async def _check_at_deadline(self, call_id: str) -> None:
        """The in-process timer's check (the delayed ``call.check_agent`` is its safety net)."""
        await self.handle(CHECK_AGENT, MediaRequest(call_id=call_id))

    async def _no_agent(self, call: BridgeCall, runtime: NodeRuntime, reason: str) -> None:
        if call.answered_by == AnsweredBy.MACHINE.value:
            await self._hang_up(call.call_id, reason)
        else:
            await self.abandon(call, runtime)

    async def abandon(self, call: BridgeCall, runtime: NodeRuntime) -> None:
        """Mark the call abandoned (once), send it to the identification message, drop the agent's channel."""
        async with transaction(self._sessions) as session:
            reason = abandon_reason(self._settings.abandon_after_seconds)
            if not await repository.claim_abandoned(session, call.call_id, reason):
                return
        ABANDONED_CALLS.inc()
        log.warning("call_abandoned", reason=reason)
        self.deadlines.forget(call.call_id)
        try:
            await runtime.client.continue_in_dialplan(call.call_id, self._settings.abandon_context, "s", 1)
        except AriNotFoundError:
            log.info("abandoned_call_already_gone")
        except AriError as exc:
            log.error(
                "identification_message_refused", error=str(exc), context=self._settings.abandon_context
            )
            await self._hang_up_channel(runtime, call.call_id)
        await self._hang_up_channel(runtime, media_channel_id(call.call_id))

    async def _after_abandon(self, command_type: str, runtime: NodeRuntime, call_id: str) -> None:
        """The identification message is playing: an agent that connects now is sent away; the rest waits
        for the dialplan to end the call."""
        if command_type == BRIDGE_MEDIA:
            log.info("media_agent_too_late")
            await self._hang_up_channel(runtime, media_channel_id(call_id))
        else:
            log.info("media_command_after_abandon", command_type=command_type)

    async def _hang_up_channel(self, runtime: NodeRuntime, channel_id: str) -> None:
        try:
            await runtime.client.hangup(channel_id)
        except AriNotFoundError:
            pass
        except AriError as exc:
            log.warning("media_hangup_failed", channel_id=channel_id, error=str(exc))

    async def transfer(self, call: BridgeCall, runtime: NodeRuntime, destination: str) -> None:
        trunk = self._settings.trunk(call.trunk)
        endpoint = trunk.endpoint(destination) if destination.startswith("+") and trunk else destination
        try:
            await runtime.client.originate(
                endpoint=endpoint,
                channel_id=f"{TRANSFER_PREFIX}{call.call_id}",
                app=runtime.config.app,
                app_args="transfer",
                caller_id=call.caller_id,
                timeout=self._settings.default_ring_timeout_seconds,
            )
        except AriConflictError:
            log.info("transfer_already_dialing")
        except AriError as exc:
            log.warning("transfer_refused", error=str(exc))
        else:
            log.info("transfer_dialing")

    async def join_transfer(self, call: BridgeCall, runtime: NodeRuntime) -> None:
        """The person the call is transferred to answered: they join, the agent leaves."""
        try:
            await runtime.client.add_to_bridge(call.call_id, [f"{TRANSFER_PREFIX}{call.call_id}"])
        except AriError as exc:
            log.warning("transfer_join_failed", error=str(exc))
            return
        with contextlib.suppress(AriNotFoundError):
            await runtime.client.hangup(media_channel_id(call.call_id))
        log.info("call_transferred")

    async def media_gone(self, call: BridgeCall, runtime: NodeRuntime) -> None:
        """The agent's (or the transfer's) channel is gone: the call goes on only while the other is there."""
        for other in (f"{TRANSFER_PREFIX}{call.call_id}", media_channel_id(call.call_id)):
            try:
                await runtime.client.get_channel(other)
            except AriNotFoundError:
                continue
            except AriError as exc:
                log.warning("media_gone_check_failed", error=str(exc))
            return
        await self._hang_up(call.call_id, "nobody is left on the call with the person")

    async def release(self, call_id: str) -> None:
        """The call has ended: hang up its media channel and destroy its bridge, wherever it was."""
        self.deadlines.forget(call_id)
        async with transaction(self._sessions) as session:
            call = await repository.get(session, call_id)
        runtime = self._nodes.get(call.node or "") if call is not None else None
        if runtime is None:
            return
        channels = (media_channel_id(call_id), f"{TRANSFER_PREFIX}{call_id}")
        releases = [runtime.client.hangup(channel) for channel in channels]
        for release in (*releases, runtime.client.destroy_bridge(call_id)):
            try:
                await release
            except AriNotFoundError:
                pass
            except AriError as exc:
                log.warning("media_release_failed", error=str(exc))

    async def _hang_up(self, call_id: str, reason: str) -> None:
        log.warning("media_hangup", reason=reason)
        async with transaction(self._sessions) as session:
            await repository.update(session, call_id, failure_reason=reason)
            await self._stream.send(session, NewCommand(BRIDGE_QUEUE, call_id, HANGUP, {"call_id": call_id}))
