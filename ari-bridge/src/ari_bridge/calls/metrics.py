"""Metrics of the calls the bridge places (labels: node and trunk names, statuses; never a call or number).

- ``dialplane_ari_originations_total{node,trunk,result}``: originate requests to ARI by result: ``accepted``,
  ``duplicate`` (409: an earlier attempt created the channel), ``refused`` (any other ARI error) or
  ``unavailable`` (no usable answer: timeout, refused connection, 5xx);
- ``dialplane_ari_post_dial_delay_seconds{trunk,until}``: from dialing (``dialed_at``, recorded just before
  the originate request) until the call was ``ringing`` or ``answered`` (``answered_at``: the moment the far
  end answered, also for calls that went through answering-machine detection afterwards);
- ``dialplane_call_final_total{trunk,status}``: calls ended, by terminal status.
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

_DELAY_UNTIL = {
    CallStatus.RINGING: ("ringing", "ringing_at"),
    CallStatus.ANSWERED: ("answered", "answered_at"),
}


def count_origination(node: str, trunk: str, result: OriginationResult) -> None:
    ORIGINATIONS.labels(node, trunk, result).inc()


def observe_transition(call: BridgeCall, target: CallStatus, changes: Mapping[str, Any]) -> None:
    """Record what a status change of ``call`` (as it was before) to ``target`` with ``changes`` tells."""
    if target.is_terminal:
        CALL_FINAL.labels(call.trunk, target.value).inc()
    delay = _DELAY_UNTIL.get(target)
    if delay is None or call.dialed_at is None:
        return
    until, column = delay
    reached = changes.get(column)
    if isinstance(reached, dt.datetime):
        seconds = (reached - call.dialed_at).total_seconds()
        POST_DIAL_DELAY.labels(call.trunk, until).observe(max(0.0, seconds))
