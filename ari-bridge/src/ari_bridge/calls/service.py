"""Call tracking: every status change is checked by the state machine, timestamped, stored and published as
an event in the same transaction. Transitions the state machine refuses (late or out-of-order ARI events,
a second ``ChannelDestroyed``) are ignored and logged at debug level.

Answering-machine detection (a call with ``machine_detection``): when the far end answers, the call keeps its
status; :meth:`CallTracker.answer` records ``answered_at`` and sends the bridge a
``call.detect_machine`` command (durable, so a restart cannot lose it), which sends the channel through AMD in
the dialplan. The call becomes ``answered``, with ``answered_by``, when the result arrives; ``answered_at``
stays the moment of the answer. A call that ends during detection is answered (``unknown``), then completed.

IVR calls (a ``dialplan`` target): once answered (after detection, if asked for), a
``call.continue_in_dialplan`` command sends the channel from Stasis to the target; the bridge keeps
tracking it there (its ChannelDestroyed still arrives).

Agent calls: once answered (after detection, if asked for), ``call.connect_agent`` gives the call its AI agent
(:mod:`ari_bridge.calls.media`) and a delayed ``call.check_agent`` checks it connected in time. Every
terminal event carries ``abandoned``: true when the person heard the identification message instead of an
agent (:mod:`ari_bridge.calls.abandon`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import structlog
from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession

from ari_bridge.calls import repository
from ari_bridge.calls.abandon import AgentWaits, is_abandoned
from ari_bridge.calls.media import RELEASE_MEDIA, agent_commands
from ari_bridge.calls.metrics import observe_transition
from ari_bridge.calls.repository import BridgeCall
from dialplane.calls import (
    AGENT_MODE_VARIABLE,
    BRIDGE_QUEUE,
    CALLS_STREAM,
    AnsweredBy,
    CallStatus,
    can_transition,
    final_status,
)
from dialplane.events import EventStream, NewCommand, NewEvent
from dialplane.log import mask_number
from dialplane.metrics import NAMESPACE

log = structlog.get_logger(__name__)

CALL_TRANSITIONS = Counter(
    "ari_call_transitions_total",
    "Call status changes made by the bridge, by new status.",
    ["status"],
    namespace=NAMESPACE,
)

DETECT_MACHINE = "call.detect_machine"
"""A command the bridge sends itself (key = call id): send the answered channel through AMD."""
CONTINUE_IN_DIALPLAN = "call.continue_in_dialplan"
"""A command the bridge sends itself (key = call id): send an answered IVR call to its dialplan target."""

_TIMESTAMP_COLUMN = {
    CallStatus.DIALING: "dialed_at",
    CallStatus.RINGING: "ringing_at",
    CallStatus.ANSWERED: "answered_at",
}


@dataclass(frozen=True, slots=True)
class Transition:
    before: BridgeCall
    after: CallStatus


@dataclass(frozen=True, slots=True)
class NewCall:
    """What an originate command asks for (already validated by the caller)."""

    call_id: str
    to_number: str
    trunk: str
    caller_id: str | None
    ring_timeout_seconds: int
    max_duration_seconds: int | None
    machine_detection: bool
    variables: Mapping[str, str]
    dialplan: Mapping[str, str | int] | None = None


class CallTracker:
    def __init__(self, stream: EventStream, agent_waits: AgentWaits | None = None) -> None:
        self._stream = stream
        self._agent_waits = agent_waits or AgentWaits()

    async def record_queued(self, session: AsyncSession, call: NewCall) -> bool:
        """Record the call before anything is dialed; False if it was recorded already (a duplicate)."""
        created = await repository.insert_queued(session, _values(call))
        if created:
            log.info("call_queued", call_id=call.call_id, to=mask_number(call.to_number), trunk=call.trunk)
        return created

    async def record_dialing(self, session: AsyncSession, call: NewCall, node: str) -> BridgeCall | None:
        """Record a new call straight as ``dialing`` on ``node`` (its capacity is already taken) and publish
        the change; None if the call was recorded already (a duplicate command)."""
        recorded = await repository.insert_dialing(session, {**_values(call), "node": node})
        if recorded is None:
            return None
        queued = dataclasses.replace(recorded, status=CallStatus.QUEUED, dialed_at=None)
        assert recorded.dialed_at is not None
        changes = {"status": CallStatus.DIALING.value, "node": node, "dialed_at": recorded.dialed_at}
        await self._stream.publish(session, _event(queued, CallStatus.DIALING, recorded.dialed_at, changes))
        CALL_TRANSITIONS.labels(CallStatus.DIALING.value).inc()
        observe_transition(queued, CallStatus.DIALING, changes)
        log.info(
            "call_status",
            call_id=call.call_id,
            status="dialing",
            previous="queued",
            to=mask_number(call.to_number),
        )
        return recorded

    async def move(
        self, session: AsyncSession, call_id: str, target: CallStatus, **fields: Any
    ) -> Transition | None:
        """Move the call to ``target`` (with extra columns), or do nothing if the state machine refuses."""
        call = await repository.get(session, call_id, lock=True)
        return await self._move(session, call_id, call, target, **fields)

    async def _move(
        self, session: AsyncSession, call_id: str, call: BridgeCall | None, target: CallStatus, **fields: Any
    ) -> Transition | None:
        """:meth:`move` for ``call``, read (and locked) in this transaction."""
        if call is None or not can_transition(call.status, target):
            log.debug(
                "call_transition_ignored",
                call_id=call_id,
                target=target,
                current=call.status if call else None,
            )
            return None
        at = dt.datetime.now(dt.UTC)
        changes = {"status": target.value, **fields, **_timestamp(call, target, at)}
        await repository.update(session, call_id, **changes)
        await self._stream.publish(session, _event(call, target, at, changes))
        CALL_TRANSITIONS.labels(target.value).inc()
        observe_transition(call, target, changes)
        log.info(
            "call_status",
            call_id=call_id,
            status=target.value,
            previous=call.status.value,
            **{k: v for k, v in fields.items() if k in ("hangup_cause", "sip_code", "failure_reason")},
        )
        return Transition(call, target)

    async def answer(
        self, session: AsyncSession, call_id: str, answered_by: AnsweredBy | None = None
    ) -> Transition | None:
        """The far end answered (StasisStart), or answering-machine detection says who did (``answered_by``).
        A call that wants detection and has not had it starts it instead, and stays in its status (None)."""
        call = await repository.get(session, call_id, lock=True)
        if call is not None and answered_by is None and _wants_detection(call):
            await self._start_machine_detection(session, call)
            return None
        fields = {} if answered_by is None else {"answered_by": answered_by.value}
        transition = await self._move(session, call_id, call, CallStatus.ANSWERED, **fields)
        if transition is not None:
            await self._after_answer(session, transition.before, fields.get("answered_by"))
        return transition

    async def _after_answer(self, session: AsyncSession, call: BridgeCall, answered_by: str | None) -> None:
        """An agent call gets its agent (and its deadline); an IVR call goes to its dialplan target."""
        if is_agent_call(call):
            wait = self._agent_waits.for_call(answered_by)
            await self._stream.send(session, *agent_commands(call.call_id, dt.datetime.now(dt.UTC), wait))
        elif call.dialplan is not None:
            step = NewCommand(BRIDGE_QUEUE, call.call_id, CONTINUE_IN_DIALPLAN, {"call_id": call.call_id})
            await self._stream.send(session, step)

    async def _start_machine_detection(self, session: AsyncSession, call: BridgeCall) -> None:
        """Record when the far end answered, and ask for the detection (a command, which a restart keeps)."""
        await repository.update(session, call.call_id, answered_at=dt.datetime.now(dt.UTC))
        command = NewCommand(BRIDGE_QUEUE, call.call_id, DETECT_MACHINE, {"call_id": call.call_id})
        await self._stream.send(session, command)
        log.info("call_machine_detection_started", call_id=call.call_id)

    async def end(
        self,
        session: AsyncSession,
        call_id: str,
        *,
        cause: int | None,
        cause_text: str | None,
        sip_code: int | None,
    ) -> Transition | None:
        """The call's channel is gone: its final status follows from how it ended."""
        call = await repository.get(session, call_id, lock=True)
        if call is None or call.status.is_terminal:
            return None
        answered = call.status == CallStatus.ANSWERED or call.answered_at is not None
        if answered and call.status != CallStatus.ANSWERED:  # ended during answering-machine detection
            await self._move(
                session, call_id, call, CallStatus.ANSWERED, answered_by=AnsweredBy.UNKNOWN.value
            )
            call = await repository.get(session, call_id, lock=True)
        outcome = final_status(
            answered=answered, cause=cause, hangup_requested=call.hangup_requested if call else False
        )
        if answered and call is not None and is_agent_call(call):
            release = NewCommand(BRIDGE_QUEUE, call_id, RELEASE_MEDIA, {"call_id": call_id})
            await self._stream.send(session, release)
        return await self._move(
            session,
            call_id,
            call,
            outcome.status,
            hangup_cause=cause,
            hangup_cause_text=cause_text,
            sip_code=sip_code,
            failure_reason=outcome.reason or (call.failure_reason if call else None),
        )

    async def fail(self, session: AsyncSession, call_id: str, reason: str) -> Transition | None:
        return await self.move(session, call_id, CallStatus.FAILED, failure_reason=reason)


def _values(call: NewCall) -> dict[str, Any]:
    return {
        "call_id": call.call_id,
        "trunk": call.trunk,
        "to_number": call.to_number,
        "caller_id": call.caller_id,
        "ring_timeout_seconds": call.ring_timeout_seconds,
        "max_duration_seconds": call.max_duration_seconds,
        "machine_detection": call.machine_detection,
        "variables": json.dumps(dict(call.variables)),
        "dialplan": None if call.dialplan is None else json.dumps(dict(call.dialplan)),
    }


def is_agent_call(call: BridgeCall) -> bool:
    """An answered call of this kind talks to an AI agent (the dialer's ``DIALPLANE_MODE`` variable)."""
    return call.dialplan is None and call.variables.get(AGENT_MODE_VARIABLE) == "agent"


def _wants_detection(call: BridgeCall) -> bool:
    """Machine detection was asked for and has not started (it starts when the far end answers)."""
    waiting = call.status in (CallStatus.DIALING, CallStatus.RINGING)
    return call.machine_detection and waiting and call.answered_at is None


def _timestamp(call: BridgeCall, target: CallStatus, at: dt.datetime) -> dict[str, dt.datetime]:
    """The column recording when ``target`` was reached; a time recorded earlier (``answered_at`` at the
    start of answering-machine detection) is kept."""
    column = _TIMESTAMP_COLUMN.get(target, "ended_at" if target.is_terminal else None)
    if column is None:
        return {}
    earlier = getattr(call, column)
    return {column: earlier if isinstance(earlier, dt.datetime) else at}


def _event(call: BridgeCall, status: CallStatus, at: dt.datetime, changes: Mapping[str, Any]) -> NewEvent:
    answered_at = changes.get("answered_at", call.answered_at)
    ended_at = changes.get("ended_at")
    data: dict[str, Any] = {
        "call_id": call.call_id,
        "status": status.value,
        "previous_status": call.status.value,
        "at": at.isoformat(),
        "node": changes.get("node", call.node),
        "trunk": call.trunk,
        "duration_seconds": (
            round((ended_at - answered_at).total_seconds(), 3) if ended_at and answered_at else None
        ),
    }
    for name in ("hangup_cause", "hangup_cause_text", "sip_code", "failure_reason", "answered_by"):
        if name in changes:
            data[name] = changes[name]
    if status.is_terminal:
        data["abandoned"] = is_abandoned(changes.get("failure_reason", call.failure_reason))
    return NewEvent(stream=CALLS_STREAM, key=call.call_id, type=status.event_type, data=data)
