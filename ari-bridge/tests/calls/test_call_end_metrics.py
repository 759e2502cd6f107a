"""The metrics a call's end records (``observe_transition`` at its terminal transition): the answered call's
duration and the hangup cause. Dashboards use these names. Each test uses a trunk of its own, so the
process-global samples it reads are its own."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from prometheus_client import REGISTRY

from ari_bridge.calls.metrics import observe_transition
from ari_bridge.calls.repository import BridgeCall
from dialplane.calls import CallStatus

DURATION = "dialplane_call_duration_seconds"
CAUSES = "dialplane_call_hangup_causes_total"
DIALED = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)


def a_call(trunk: str, status: CallStatus, **columns: Any) -> BridgeCall:
    values: dict[str, Any] = {
        "call_id": str(uuid.uuid4()),
        "status": status,
        "trunk": trunk,
        "node": "local",
        "to_number": "+12025550100",
        "caller_id": None,
        "ring_timeout_seconds": 30,
        "max_duration_seconds": None,
        "machine_detection": False,
        "variables": {},
        "dialplan": None,
        "hangup_requested": False,
        "answered_by": None,
        "hangup_cause": None,
        "hangup_cause_text": None,
        "sip_code": None,
        "failure_reason": None,
        "created_at": DIALED,
        "dialed_at": DIALED,
        "ringing_at": None,
        "answered_at": None,
        "ended_at": None,
        **columns,
    }
    return BridgeCall(**values)


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def new_trunk() -> str:
    return f"unit-{uuid.uuid4().hex[:8]}"


def test_an_answered_call_that_ends_records_its_duration_and_cause() -> None:
    trunk = new_trunk()
    answered = a_call(trunk, CallStatus.ANSWERED, answered_at=DIALED + dt.timedelta(seconds=2))
    ended_at = DIALED + dt.timedelta(seconds=44.5)
    changes = {"status": "completed", "ended_at": ended_at, "hangup_cause": 16}
    observe_transition(answered, CallStatus.COMPLETED, changes)
    assert value(f"{DURATION}_count", trunk=trunk) == 1
    assert value(f"{DURATION}_sum", trunk=trunk) == 42.5
    assert value(f"{DURATION}_bucket", trunk=trunk, le="30.0") == 0
    assert value(f"{DURATION}_bucket", trunk=trunk, le="45.0") == 1
    assert value(CAUSES, trunk=trunk, cause="16") == 1


def test_a_call_never_answered_has_a_cause_and_no_duration() -> None:
    trunk = new_trunk()
    dialing = a_call(trunk, CallStatus.DIALING)
    changes = {"status": "busy", "ended_at": DIALED + dt.timedelta(seconds=1), "hangup_cause": 17}
    observe_transition(dialing, CallStatus.BUSY, changes)
    assert value(CAUSES, trunk=trunk, cause="17") == 1
    assert value(f"{DURATION}_count", trunk=trunk) == 0


def test_a_call_ended_without_a_cause_counts_as_none() -> None:
    trunk = new_trunk()
    queued = a_call(trunk, CallStatus.QUEUED, dialed_at=None)
    failed = {"status": "failed", "ended_at": DIALED, "failure_reason": "ARI refused the originate"}
    observe_transition(queued, CallStatus.FAILED, failed)
    assert value(CAUSES, trunk=trunk, cause="none") == 1


def test_transitions_before_the_end_record_neither() -> None:
    trunk = new_trunk()
    dialing = a_call(trunk, CallStatus.DIALING)
    answered_at = DIALED + dt.timedelta(seconds=1)
    observe_transition(dialing, CallStatus.ANSWERED, {"status": "answered", "answered_at": answered_at})
    assert value(f"{DURATION}_count", trunk=trunk) == 0
    assert value(CAUSES, trunk=trunk, cause="none") == 0
