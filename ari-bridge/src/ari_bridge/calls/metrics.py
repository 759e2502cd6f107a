"""Metrics of the calls the bridge places (labels: node and trunk names, statuses; never a call or number).

- ``dialplane_ari_originations_total{node,trunk,result}``: originate requests to ARI by result: ``accepted``,
  ``duplicate`` (409: an earlier attempt created the channel), ``refused`` (any other ARI error) or
  ``unavailable`` (no usable answer: timeout, refused connection, 5xx);
- ``dialplane_ari_post_dial_delay_seconds{trunk,until}``: from dialing (``dialed_at``, recorded just before
  the originate request) until the call was ``ringing`` or ``answered`` (``answered_at``: the moment the far
  end answered, also for calls that went through answering-machine detection afterwards);
- ``dialplane_call_final_total{trunk,status}``: calls ended, by terminal status;
- ``dialplane_call_duration_seconds{trunk}``: answer (``answered_at``) to end (``ended_at``) of each answered
  call, observed when it ends (calls never answered have no duration);
- ``dialplane_call_hangup_causes_total{trunk,cause}``: calls ended, by the Q.850 cause code of their hangup
  (``"16"``; ``"none"`` when Asterisk gave none, as for a call that failed before it was dialed).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Literal

from prometheus_client import Counter, Histogram

from ari_bridge.calls.repository import BridgeCall
from dialplane.calls import CallStatus
from dialplane.metrics import NAMESPACE

OriginationResult = Literal["accepted", "duplicate", "refused", "unavailable"]

# From a fast answer on a local trunk to the longest ring timeouts people configure.
POST_DIAL_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 7.5, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0)
# From a hang-up right after the answer to the longest conversations (the default maximum is an hour).
DURATION_BUCKETS = (1.0, 5.0, 10.0, 20.0, 30.0, 45.0, 60.0, 90.0, 120.0, 180.0, 300.0, 600.0, 1200.0, 3600.0)

ORIGINATIONS = Counter(
    "ari_originations_total",
    "Originate requests sent to ARI, by node, trunk and result (accepted, duplicate, refused, unavailable).",
    ["node", "trunk", "result"],
    namespace=NAMESPACE,
)
POST_DIAL_DELAY = Histogram(
    "ari_post_dial_delay_seconds",
    "Time from dialing a call until it was ringing or answered, by trunk.",
    ["trunk", "until"],
    namespace=NAMESPACE,
    buckets=POST_DIAL_BUCKETS,
)
CALL_FINAL = Counter(
    "call_final_total",
    "Calls ended by the bridge, by trunk and terminal status.",
    ["trunk", "status"],
    namespace=NAMESPACE,
)
CALL_DURATION = Histogram(
    "call_duration_seconds",
    "Time from the answer to the end of answered calls, by trunk (observed when the call ends).",
    ["trunk"],
    namespace=NAMESPACE,
    buckets=DURATION_BUCKETS,
)
HANGUP_CAUSES = Counter(
    "call_hangup_causes_total",
    "Calls ended, by trunk and Q.850 hangup cause code (none: no cause known).",
    ["trunk", "cause"],
    namespace=NAMESPACE,
)

_DELAY_UNTIL = {
    CallStatus.RINGING: ("ringing", "ringing_at"),
    CallStatus.ANSWERED: ("answered", "answered_at"),
}


def count_origination(node: str, trunk: str, result: OriginationResult) -> None:
    ORIGINATIONS.labels(node, trunk, result).inc()


def observe_transition(call: BridgeCall, target: CallStatus, changes: Mapping[str, Any]) -> None:
    """Record what a status change of ``call`` (as it was before) to ``target`` with ``changes`` tells."""
    if target.is_terminal:
        _observe_end(call, target, changes)
    delay = _DELAY_UNTIL.get(target)
    if delay is None or call.dialed_at is None:
        return
    until, column = delay
    reached = changes.get(column)
    if isinstance(reached, dt.datetime):
        seconds = (reached - call.dialed_at).total_seconds()
        POST_DIAL_DELAY.labels(call.trunk, until).observe(max(0.0, seconds))


def _observe_end(call: BridgeCall, target: CallStatus, changes: Mapping[str, Any]) -> None:
    CALL_FINAL.labels(call.trunk, target.value).inc()
    cause = changes.get("hangup_cause", call.hangup_cause)
    HANGUP_CAUSES.labels(call.trunk, "none" if cause is None else str(cause)).inc()
    answered_at = changes.get("answered_at", call.answered_at)
    ended_at = changes.get("ended_at")
    if isinstance(answered_at, dt.datetime) and isinstance(ended_at, dt.datetime):
        CALL_DURATION.labels(call.trunk).observe(max(0.0, (ended_at - answered_at).total_seconds()))
