"""Abandoned calls: a person answered an agent call and no AI agent was connected in time.

The rule (the US FCC's for telemarketing calls, and others like it): a person who answers and is not
connected within 2 s must hear a short recorded identification message — who called, and a number to call
back — and the call counts as abandoned.

When an agent call is answered (with answering-machine detection: when the verdict arrives), the bridge
sends itself, in the answer's transaction, ``call.connect_agent`` and a ``call.check_agent`` delayed by
``abandon_after_seconds`` (durable: it survives a restart of the bridge, but the event stream's polling may
run it up to ``event_poll_interval_seconds`` late). Connecting the agent starts a timer for the same moment
in the process (:class:`AgentDeadlines`, exact to a few ms). The first of the two to find the agent's media
channel not ``Up`` abandons the call (:meth:`ari_bridge.calls.media.AgentMedia.abandon`):

1. the call is marked, once (:func:`ari_bridge.calls.repository.claim_abandoned`): its ``failure_reason``
   becomes :func:`abandon_reason` ("abandoned: no AI agent was ready within 2 s of the answer");
2. the agent's media channel is hung up (an agent that comes later finds nothing to connect to);
3. the call's channel leaves Stasis for the ``abandon_context`` dialplan context (asterisk/conf), which
   plays the identification message (made by asterisk/render-voices.sh) and hangs up — so the call ends
   even if the bridge stops meanwhile. If Asterisk refuses, the call is hung up at once: never silence.

The call then ends ``completed`` with ``abandoned: true`` and that failure reason in its event data. While
the message plays, hangup commands (such as the agent's, whose media is gone) are not carried out.

A call answered by a machine has no person to abandon: its agent has ``agent_connect_timeout_seconds``
(10 s) to connect, after which the call is hung up.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog
from prometheus_client import Counter, Histogram

from ari_bridge.settings import Settings
from dialplane.calls import AnsweredBy
from dialplane.metrics import NAMESPACE

log = structlog.get_logger(__name__)

ABANDONED_PREFIX = "abandoned: "

ABANDONED_CALLS = Counter(
    "ari_abandoned_calls_total",
    "Agent calls answered by a person whose AI agent was not connected in time (identification message).",
    namespace=NAMESPACE,
)
AGENT_CONNECT = Histogram(
    "ari_agent_connect_seconds",
    "From the answer of an agent call (with answering-machine detection: the verdict) to the AI agent's "
    "media joining the call.",
    buckets=(0.1, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 5.0, 10.0),
    namespace=NAMESPACE,
)


def abandon_reason(after_seconds: float) -> str:
    return f"{ABANDONED_PREFIX}no AI agent was ready within {after_seconds:g} s of the answer"


def is_abandoned(failure_reason: str | None) -> bool:
    return failure_reason is not None and failure_reason.startswith(ABANDONED_PREFIX)


@dataclass(frozen=True, slots=True)
class AgentWaits:
    """How long after the answer (or AMD's verdict) an agent call's AI agent may take to connect."""

    person_seconds: float = 2.0  # then the call is abandoned
    machine_seconds: float = 10.0  # then the call is hung up

    @classmethod
    def of(cls, settings: Settings) -> AgentWaits:
        return cls(settings.abandon_after_seconds, settings.agent_connect_timeout_seconds)

    def for_call(self, answered_by: str | None) -> float:
        return self.machine_seconds if answered_by == AnsweredBy.MACHINE.value else self.person_seconds


class AgentDeadlines:
    """Per waiting agent call: a timer that runs ``check(call id)`` at its deadline, and the moment the call
    was ready for its agent (to measure how long the agent took)."""

    def __init__(self, check: Callable[[str], Awaitable[None]]) -> None:
        self._check = check
        self._timers: dict[str, asyncio.Task[None]] = {}
        self._ready_at: dict[str, dt.datetime] = {}

    def start(self, call_id: str, ready_at: dt.datetime, wait_seconds: float) -> float:
        """Check the call ``wait_seconds`` after ``ready_at``; returns the seconds left until then."""
        left = max(0.0, wait_seconds - (dt.datetime.now(dt.UTC) - ready_at).total_seconds())
        self._cancel(call_id)
        self._ready_at[call_id] = ready_at
        # a fresh context: the timer is not part of the command that started it (nor logged as such)
        self._timers[call_id] = asyncio.create_task(self._after(call_id, left), context=contextvars.Context())
        return left

    def connected(self, call_id: str) -> float | None:
        """The agent has joined the call: no check is needed; the seconds it took (None if not known here,
        e.g. after a restart)."""
        self._cancel(call_id)
        ready_at = self._ready_at.pop(call_id, None)
        if ready_at is None:
            return None
        seconds = (dt.datetime.now(dt.UTC) - ready_at).total_seconds()
        AGENT_CONNECT.observe(seconds)
        return seconds

    def forget(self, call_id: str) -> None:
        """The call has ended."""
        self._cancel(call_id)
        self._ready_at.pop(call_id, None)

    async def close(self) -> None:
        timers = list(self._timers.values())
        for timer in timers:
            timer.cancel()
        for timer in timers:
            with contextlib.suppress(asyncio.CancelledError):
                await timer
        self._timers.clear()

    def _cancel(self, call_id: str) -> None:
        timer = self._timers.pop(call_id, None)
        if timer is not None and timer is not asyncio.current_task():
            timer.cancel()

    async def _after(self, call_id: str, seconds: float) -> None:
        await asyncio.sleep(seconds)
        self._timers.pop(call_id, None)
        with structlog.contextvars.bound_contextvars(call_id=call_id):
            try:
                await self._check(call_id)
            except Exception:
                log.exception("agent_deadline_check_failed")
