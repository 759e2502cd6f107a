"""Commands the bridge takes from the event stream: originate and hang up a call, and (sent by the bridge
itself) send an answered call through answering-machine detection.

Originate never dials a call twice:

1. the call is recorded as ``queued`` (a second command for the same call id finds the record: duplicate);
2. capacity is acquired (trunk limits, a connected node with spare channels);
3. the call is recorded as ``dialing`` on that node *before* the ARI request, and committed;
4. ``POST /channels`` with the call id as the channel id; 409 means an earlier attempt already created it.

When capacity is free at once (the common case) on a command's first delivery, 1 and 3 are one
transaction: the call is recorded straight as ``dialing`` (a duplicate finds the record and takes the
careful path above).

If the bridge dies between 3 and 4, the redelivered command finds ``dialing``: it adopts the channel if
Asterisk has it and otherwise ends the call as failed, never dialing again. Slow I/O (waiting for capacity,
ARI requests) happens between short transactions, so no transaction stays open across it.

IVR calls (``dialplan``): once answered, the channel is sent from Stasis to the given context, extension and
priority (``call.continue_in_dialplan``, see :mod:`ari_bridge.calls.service`).

Answering-machine detection: the channel leaves Stasis for the ``dialplane-amd`` context, which runs AMD()
and brings it back with ``Stasis(${DIALPLANE_APP},amd,STATUS,CAUSE)``; ``DIALPLANE_APP`` is set on the channel
at originate to the node's app name (it takes precedence over the dialplan's global of that name).
The app stays subscribed to the channel from the originate, so its ChannelDestroyed still arrives.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import structlog
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from ari_bridge.ari import AriConflictError, AriError, AriNotFoundError, AriUnavailableError
from ari_bridge.calls import repository
from ari_bridge.calls.abandon import is_abandoned
from ari_bridge.calls.live import live_call
from ari_bridge.calls.media import MEDIA_COMMANDS, AgentMedia, MediaRequest
from ari_bridge.calls.metrics import OriginationResult, count_origination
from ari_bridge.calls.placing import Placing
from ari_bridge.calls.service import CONTINUE_IN_DIALPLAN, DETECT_MACHINE, CallTracker, NewCall
from ari_bridge.capacity import Capacity
from ari_bridge.nodes import NodeRuntime, Nodes
from ari_bridge.settings import Settings
from dialplane.calls import HANGUP, ORIGINATE, AnsweredBy, CallStatus
from dialplane.claiming import slot_lent
from dialplane.db import SessionFactory, transaction
from dialplane.events import Command

log = structlog.get_logger(__name__)

CALL_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"  # also the ARI channel id
AMD_CONTEXT = "dialplane-amd"  # asterisk/conf/extensions.conf
AT_ONCE_WITHIN_SECONDS = 1.0  # a call whose turn comes sooner is not recorded as queued while it waits


class DialplanTarget(BaseModel):
    """Where an answered IVR call goes (``POST /channels/{id}/continue``)."""

    context: str = Field(pattern=r"^[A-Za-z0-9_-]{1,80}$")
    extension: str = Field(default="s", pattern=r"^[A-Za-z0-9_+*#-]{1,80}$")
    priority: int = Field(default=1, ge=1, le=100_000)


class OriginateRequest(BaseModel):
    call_id: str = Field(pattern=CALL_ID_PATTERN)
    to: str = Field(pattern=r"^\+[1-9][0-9]{6,14}$")
    trunk: str | None = None
    caller_id: str | None = Field(default=None, max_length=80)
    ring_timeout_seconds: int | None = Field(default=None, ge=1, le=600)
    max_duration_seconds: int | None = Field(default=None, ge=1, le=86_400)
    machine_detection: bool = False
    variables: dict[str, str] = Field(default_factory=dict)
    dialplan: DialplanTarget | None = None


class HangupRequest(BaseModel):
    call_id: str = Field(pattern=CALL_ID_PATTERN)


class CallRequest(BaseModel):
    """A command about one call: the bridge's own ``call.detect_machine``, ``call.continue_in_dialplan``."""

    call_id: str = Field(pattern=CALL_ID_PATTERN)


class CallCommands:
    def __init__(
        self,
        sessions: SessionFactory,
        tracker: CallTracker,
        capacity: Capacity,
        nodes: Nodes,
        settings: Settings,
        media: AgentMedia,
        placing: Placing,
    ) -> None:
        self._media = media
        self._placing = placing
        self._sessions = sessions
        self._tracker = tracker
        self._capacity = capacity
        self._nodes = nodes
        self._settings = settings

    async def handle(self, _session: AsyncSession, command: Command) -> None:
        """Worker entry point; returning acknowledges the command."""
        with structlog.contextvars.bound_contextvars(call_id=command.key):
            try:
                if command.type == ORIGINATE:
                    await self.originate(OriginateRequest.model_validate(command.data), command.attempt)
                elif command.type == HANGUP:
                    await self.hangup(HangupRequest.model_validate(command.data))
                elif command.type == DETECT_MACHINE:
                    await self.detect_machine(CallRequest.model_validate(command.data))
                elif command.type == CONTINUE_IN_DIALPLAN:
                    await self.continue_in_dialplan(CallRequest.model_validate(command.data))
                elif command.type in MEDIA_COMMANDS:
                    await self._media.handle(command.type, MediaRequest.model_validate(command.data))
                else:
                    log.warning("command_unknown", command_type=command.type)
            except ValidationError as exc:
                log.error("command_invalid", command_type=command.type, errors=exc.errors(include_url=False))

    async def originate(self, request: OriginateRequest, attempt: int = 1) -> None:
        if attempt == 1 and await self._originate_at_once(request):
            return
        call = await self._record(request)
        if call is None:
            return
        if call.status == CallStatus.DIALING and attempt > 1:
            await self._recover(call)
            return
        if call.status != CallStatus.QUEUED:
            log.info("originate_duplicate", status=call.status.value)
            return
        if self._settings.trunk(call.trunk) is None:
            await self._fail(call, f"unknown trunk {call.trunk!r}", None)
            return
        with slot_lent():  # the worker takes other commands meanwhile: the hang-up that frees capacity, say
            node = await self._capacity.acquire(call.trunk)

        async def to_dialing(session: AsyncSession) -> repository.BridgeCall | None:
            moved = await self._tracker.move(session, call.call_id, CallStatus.DIALING, node=node)
            return None if moved is None else moved.before  # None: canceled meanwhile

        await self._place(node, call.trunk, call.call_id, to_dialing)

    async def _originate_at_once(self, request: OriginateRequest) -> bool:
        """The common case in one transaction: capacity is free now, or the call's turn under the trunk's
        calls-per-second limit comes within ``AT_ONCE_WITHIN_SECONDS`` (waited for here, unrecorded: a
        redelivered command starts over), so the new call is recorded straight as ``dialing`` and dialed.
        False (nothing done) if capacity must be waited for longer or the call exists."""
        new_call = self._new_call(request)
        if self._settings.trunk(new_call.trunk) is None:
            return False
        taken = self._capacity.try_acquire(new_call.trunk, within=AT_ONCE_WITHIN_SECONDS)
        if taken is None:
            return False
        node, turn_in = taken
        try:
            await asyncio.sleep(turn_in)
        except BaseException:  # the bridge is stopping: nothing was recorded
            await self._capacity.release(node, new_call.trunk)
            raise

        async def as_dialing(session: AsyncSession) -> repository.BridgeCall | None:
            return await self._tracker.record_dialing(session, new_call, node)  # None: recorded earlier

        # not placed: recorded by an earlier delivery of this command, the careful path decides
        return await self._place(node, new_call.trunk, new_call.call_id, as_dialing)

    async def _place(
        self,
        node: str,
        trunk: str,
        call_id: str,
        record: Callable[[AsyncSession], Awaitable[repository.BridgeCall | None]],
    ) -> bool:
        """Record the call as ``dialing`` on ``node``, whose capacity this command took, and dial it: one of
        the calls being placed (:class:`Placing`). The capacity is given back unless the call was recorded
        (a duplicate, a call canceled meanwhile, the database failing, the bridge stopping): a recorded call
        frees it when it ends. True if the call was recorded (and dialed, or ended as failed)."""
        recorded: repository.BridgeCall | None = None
        try:
            with self._placing.call(call_id):
                async with transaction(self._sessions) as session:
                    in_transaction = await record(session)
                recorded = in_transaction  # only once committed
                if recorded is not None:
                    await self._post_originate(node, recorded)
        finally:
            if recorded is None:
                await self._capacity.release(node, trunk)
        return recorded is not None

    def _new_call(self, request: OriginateRequest) -> NewCall:
        return NewCall(
            call_id=request.call_id,
            to_number=request.to,
            trunk=request.trunk or self._settings.default_trunk,
            caller_id=request.caller_id,
            ring_timeout_seconds=request.ring_timeout_seconds or self._settings.default_ring_timeout_seconds,
            max_duration_seconds=request.max_duration_seconds,
            machine_detection=request.machine_detection,
            variables=request.variables,
            dialplan=request.dialplan.model_dump() if request.dialplan else None,
        )

    async def _record(self, request: OriginateRequest) -> repository.BridgeCall | None:
        async with transaction(self._sessions) as session:
            await self._tracker.record_queued(session, self._new_call(request))
            return await repository.get(session, request.call_id)

    async def _post_originate(self, node: str, call: repository.BridgeCall) -> None:
        try:
            await self._originate_channel(self._nodes[node], call)
        except AriConflictError:
            count_origination(node, call.trunk, "duplicate")
            if await self._channel_exists(node, call.call_id):
                log.info("originate_already_done")  # an earlier attempt created the channel
                return
            # Asterisk also answers 409 when the id is a prefix of a live channel's id (e.g. x-1 vs x-10;1).
            await self._fail(call, "Asterisk refused the channel id: it collides with a live channel's", node)
        except AriError as exc:
            count_origination(node, call.trunk, _failure_result(exc))
            if isinstance(exc, AriUnavailableError) and await self._channel_exists(node, call.call_id):
                log.warning("originate_unanswered_but_placed", error=str(exc))  # tracked as usual
                return
            await self._fail(call, f"Asterisk refused the call: {exc}", node)
        else:
            count_origination(node, call.trunk, "accepted")

    async def _channel_exists(self, node: str, call_id: str) -> bool:
        """After a timeout or 5xx the POST may still have created the channel: ask once."""
        try:
            await self._nodes[node].client.get_channel(call_id)
        except AriError:
            return False
        return True

    async def _originate_channel(self, runtime: NodeRuntime, call: repository.BridgeCall) -> None:
        trunk = self._settings.trunk(call.trunk)
        assert trunk is not None
        app = runtime.config.app
        variables = {"DIALPLANE_CALL_ID": call.call_id, **call.variables}
        if call.machine_detection:  # each variable costs an event (ChannelVarset): only where needed
            variables["DIALPLANE_APP"] = app
        await runtime.client.originate(
            endpoint=trunk.endpoint(call.to_number),
            channel_id=call.call_id,
            app=app,
            app_args="dialplane",
            caller_id=call.caller_id,
            timeout=call.ring_timeout_seconds,
            variables=variables,
        )

    async def _recover(self, call: repository.BridgeCall) -> None:
        """The bridge stopped after recording ``dialing``: adopt the channel, or end the call."""
        runtime = self._nodes.get(call.node or "")
        try:
            if runtime is not None:
                await runtime.client.get_channel(call.call_id)
                log.info("originate_recovered_live_channel")
                return
        except AriNotFoundError:
            pass
        await self._fail(call, "the bridge stopped while placing the call; not dialed again", call.node)

    async def _fail(self, call: repository.BridgeCall, reason: str, node: str | None) -> None:
        """End the call as failed and free its capacity on ``node`` — unless it ended meanwhile (its node
        was lost, say), which freed it already."""
        async with transaction(self._sessions) as session:
            transition = await self._tracker.fail(session, call.call_id, reason)
        if transition is not None and node is not None:
            await self._capacity.release(node, call.trunk)

    async def detect_machine(self, request: CallRequest) -> None:
        """Send the answered channel through AMD; its result comes back as a StasisStart (see stasis.py)."""
        live = await live_call(self._sessions, self._nodes, request.call_id)
        if live is None:
            return
        call, runtime = live
        try:
            await runtime.client.continue_in_dialplan(call.call_id, AMD_CONTEXT, "s", 1)
        except (AriNotFoundError, AriConflictError):
            log.info("machine_detection_channel_not_in_stasis")  # gone, or sent on by an earlier attempt
        except AriError as exc:
            log.warning("machine_detection_not_started", error=str(exc))
            async with transaction(self._sessions) as session:
                await self._tracker.answer(session, call.call_id, AnsweredBy.UNKNOWN)

    async def continue_in_dialplan(self, request: CallRequest) -> None:
        """Send an answered IVR call to its dialplan target; if Asterisk refuses, hang it up (a caller left
        in Stasis would hear silence until the maximum duration)."""
        live = await live_call(self._sessions, self._nodes, request.call_id)
        if live is None or live[0].dialplan is None:
            return
        call, runtime = live
        target = DialplanTarget.model_validate(call.dialplan)
        try:
            await runtime.client.continue_in_dialplan(
                call.call_id, target.context, target.extension, target.priority
            )
        except (AriNotFoundError, AriConflictError):
            log.info("dialplan_channel_not_in_stasis")  # gone, or sent on by an earlier attempt
        except AriError as exc:
            log.warning("dialplan_continue_refused", error=str(exc), context=target.context)
            await self.hangup(HangupRequest(call_id=call.call_id))
        else:
            log.info("call_sent_to_dialplan", context=target.context, extension=target.extension)

    async def hangup(self, request: HangupRequest) -> None:
        async with transaction(self._sessions) as session:
            call = await repository.get(session, request.call_id, lock=True)
            if call is None or call.status.is_terminal:
                log.info("hangup_nothing_to_do", status=call.status.value if call else None)
                return
            if is_abandoned(call.failure_reason):
                log.info("hangup_left_to_identification_message")  # the dialplan hangs up after it
                return
            await repository.update(session, call.call_id, hangup_requested=True)
            if call.status == CallStatus.QUEUED:
                await self._tracker.move(
                    session,
                    call.call_id,
                    CallStatus.CANCELED,
                    failure_reason="hung up on request before it was dialed",
                )
                return
        runtime = self._nodes.get(call.node or "")
        if runtime is None:
            return
        try:
            await runtime.client.hangup(call.call_id)
        except AriNotFoundError:
            log.info("hangup_channel_already_gone")


def _failure_result(exc: AriError) -> OriginationResult:
    return "unavailable" if isinstance(exc, AriUnavailableError) else "refused"
