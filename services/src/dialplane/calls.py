"""The call status model shared by every service (Twilio-like, snake_case), and its state machine.

``queued → dialing → ringing → answered → completed``, with the terminal alternatives ``busy``,
``no_answer``, ``failed`` and ``canceled``. :func:`next_status` says whether a transition is allowed;
:func:`final_status` turns how a channel ended (Q.850 cause, whether it was answered, whether we hung it up)
into the terminal status and a human-readable reason.

Event-stream names used for calls are here too, so producers and consumers agree on them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

CALLS_STREAM = "calls"
"""Events about calls; key = call id; type = ``call.<status>`` (e.g. ``call.answered``)."""

DIALER_CALLS_GROUP = "dialer-calls"
"""The dialer's consumer group of the ``calls`` stream: the one that applies events to the call rows (the
audit reads its position to tell an event not handled yet from one lost)."""

BRIDGE_QUEUE = "ari-bridge"
"""Commands for the ARI bridge; key = call id; types below."""

ORIGINATE = "call.originate"
HANGUP = "call.hangup"

AGENT_QUEUE = "ai-agent"
"""Commands for the AI agents; key = call id."""

PREPARE = "agent.prepare"
"""The dialer tells the AI agents about an agent call it has just queued (same transaction): ``id``, ``to``,
``mode`` and ``agent`` (profile, lead, variables); an agent records the pending conversation. A command, not
the ``call.queued`` event, so the record is there within milliseconds even while the agents' consumer of
the busy ``calls`` stream lags: an answered call must find its agent within seconds."""

CONVERSE = "agent.converse"
"""The bridge asks an AI agent to talk on an answered call: ``call_id``, ``media_url`` (a chan_websocket
media endpoint to connect to), ``media_format`` (``slin16``), ``answered_by``."""

CONVERSATIONS_STREAM = "conversations"
"""Events of the AI agent's conversations; key = call id."""

CONVERSATION_ENDED = "conversation.ended"
"""``call_id``, ``outcome``, ``summary``, ``callback_at``, ``meeting_id``, ``opted_out``."""

AGENT_MODE_VARIABLE = "DIALPLANE_MODE"
"""The originate variable saying what the answered call is for (``agent`` or ``ivr``)."""


def media_channel_id(call_id: str) -> str:
    """The id of the channel that carries an agent call's audio to the AI agent (never a prefix of a call
    id, nor a call id a prefix of it: Asterisk refuses ids that are prefixes of live channels' ids)."""
    return f"media-{call_id}"


class CallStatus(enum.StrEnum):
    QUEUED = "queued"
    DIALING = "dialing"
    RINGING = "ringing"
    ANSWERED = "answered"
    COMPLETED = "completed"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL

    @property
    def event_type(self) -> str:
        return f"call.{self.value}"


class AnsweredBy(enum.StrEnum):
    HUMAN = "human"
    MACHINE = "machine"
    UNKNOWN = "unknown"


TERMINAL = frozenset(
    {CallStatus.COMPLETED, CallStatus.BUSY, CallStatus.NO_ANSWER, CallStatus.FAILED, CallStatus.CANCELED}
)
ACTIVE = frozenset({CallStatus.DIALING, CallStatus.RINGING, CallStatus.ANSWERED})

_UNANSWERED_END = frozenset({CallStatus.BUSY, CallStatus.NO_ANSWER, CallStatus.FAILED, CallStatus.CANCELED})
_ALLOWED: dict[CallStatus, frozenset[CallStatus]] = {
    CallStatus.QUEUED: frozenset({CallStatus.DIALING, CallStatus.FAILED, CallStatus.CANCELED}),
    CallStatus.DIALING: frozenset({CallStatus.RINGING, CallStatus.ANSWERED}) | _UNANSWERED_END,
    CallStatus.RINGING: frozenset({CallStatus.ANSWERED}) | _UNANSWERED_END,
    CallStatus.ANSWERED: frozenset({CallStatus.COMPLETED, CallStatus.FAILED}),
}


class InvalidTransitionError(ValueError):
    """The call cannot go from its status to the requested one (e.g. ``completed → ringing``)."""


def can_transition(current: CallStatus, target: CallStatus) -> bool:
    return target in _ALLOWED.get(current, frozenset())


def next_status(current: CallStatus, target: CallStatus) -> CallStatus:
    """``target`` if the state machine allows it from ``current``; raises otherwise."""
    if not can_transition(current, target):
        raise InvalidTransitionError(f"a {current} call cannot become {target}")
    return target


# Q.850 cause codes (ARI ChannelDestroyed.cause) and what they mean for a call that was not answered.
BUSY_CAUSES = frozenset({17, 21})  # user busy, call rejected
NO_ANSWER_CAUSES = frozenset({16, 18, 19})  # normal clearing before answer, no user responding, no answer
CAUSE_REASONS: dict[int, str] = {
    0: "the call could not be placed (unknown cause)",
    1: "the number is not allocated",
    3: "no route to the destination",
    17: "the line is busy",
    18: "no user responded",
    19: "no answer",
    21: "the call was rejected",
    22: "the number has changed",
    27: "the destination is out of order",
    28: "the number is incomplete or invalid",
    31: "the network ended the call",
    34: "no circuit or channel available (congestion)",
    38: "the network is out of order",
    41: "temporary network failure",
    42: "switching equipment congestion",
    44: "the requested circuit or channel is not available",
    58: "the bearer capability is not available",
    66: "the channel type is not implemented",
    102: "a timer expired while placing the call",
    127: "interworking error",
}


@dataclass(frozen=True, slots=True)
class CallEnd:
    status: CallStatus
    reason: str | None  # human-readable; None for a normally completed call


def cause_reason(cause: int | None) -> str:
    if cause is None:
        return "the channel ended without a cause"
    return CAUSE_REASONS.get(cause, f"the call ended with cause {cause}")


def final_status(*, answered: bool, cause: int | None, hangup_requested: bool) -> CallEnd:
    """The terminal status of a call whose channel ended."""
    if answered:
        return CallEnd(CallStatus.COMPLETED, None)
    if hangup_requested:
        return CallEnd(CallStatus.CANCELED, "hung up on request before it was answered")
    if cause in BUSY_CAUSES:
        return CallEnd(CallStatus.BUSY, cause_reason(cause))
    if cause in NO_ANSWER_CAUSES:
        return CallEnd(CallStatus.NO_ANSWER, cause_reason(19 if cause == 16 else cause))
    return CallEnd(CallStatus.FAILED, cause_reason(cause))
