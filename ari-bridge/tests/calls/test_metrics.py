"""The bridge's call metrics after real calls on the test carrier. Metrics are process-global (other tests add
to them too), so each test compares samples before and after its own calls."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from prometheus_client import REGISTRY

from ari_bridge.testing import Bridge
from dialplane.calls import CallStatus

pytestmark = [pytest.mark.asterisk, pytest.mark.timeout(120)]

S = CallStatus
TERMINAL = (S.COMPLETED, S.BUSY, S.NO_ANSWER, S.FAILED, S.CANCELED)
TRUNK = "test-carrier"
DELAY = "dialplane_ari_post_dial_delay_seconds"

Sample = tuple[str, tuple[tuple[str, str], ...]]


def sample(name: str, **labels: str) -> Sample:
    return name, tuple(sorted(labels.items()))


def read(samples: list[Sample]) -> dict[Sample, float]:
    return {s: REGISTRY.get_sample_value(s[0], dict(s[1])) or 0.0 for s in samples}


def deltas(before: Mapping[Sample, float], after: Mapping[Sample, float]) -> dict[Sample, float]:
    return {s: round(after[s] - before[s], 6) for s in before}


ACCEPTED = sample("dialplane_ari_originations_total", node="local", trunk=TRUNK, result="accepted")
REFUSED = sample("dialplane_ari_originations_total", node="local", trunk=TRUNK, result="refused")
COMPLETED = sample("dialplane_call_final_total", trunk=TRUNK, status="completed")
BUSY = sample("dialplane_call_final_total", trunk=TRUNK, status="busy")
NO_ANSWER = sample("dialplane_call_final_total", trunk=TRUNK, status="no_answer")
ANSWERED_COUNT = sample(f"{DELAY}_count", trunk=TRUNK, until="answered")
ANSWERED_SUM = sample(f"{DELAY}_sum", trunk=TRUNK, until="answered")
RINGING_COUNT = sample(f"{DELAY}_count", trunk=TRUNK, until="ringing")
RINGING_SUM = sample(f"{DELAY}_sum", trunk=TRUNK, until="ringing")
ANSWERED_WITHIN_1S = sample(f"{DELAY}_bucket", trunk=TRUNK, until="answered", le="1.0")
OUTCOMES = [ACCEPTED, REFUSED, COMPLETED, BUSY, NO_ANSWER]
ALL = [*OUTCOMES, ANSWERED_COUNT, ANSWERED_SUM, RINGING_COUNT, RINGING_SUM]


async def place(bridge: Bridge, number: str, **options: object) -> None:
    call_id = await bridge.originate(number, **options)
    await bridge.wait_for(call_id, *TERMINAL)


async def test_a_completed_and_a_busy_call_are_counted_and_timed(bridge: Bridge) -> None:
    before = read([*ALL, ANSWERED_WITHIN_1S])
    await place(bridge, "+12025550100")  # answers at once, hangs up after 3 s
    await place(bridge, "+12025550101")  # busy
    after = read([*ALL, ANSWERED_WITHIN_1S])
    change = deltas(before, after)
    assert 0 < change.pop(ANSWERED_SUM) < 1.0
    assert change == {
        ACCEPTED: 2,
        REFUSED: 0,
        COMPLETED: 1,
        BUSY: 1,
        NO_ANSWER: 0,
        ANSWERED_COUNT: 1,
        ANSWERED_WITHIN_1S: 1,
        RINGING_COUNT: 0,  # the test carrier's lines answer or refuse without ringing first
        RINGING_SUM: 0,
    }


async def test_a_call_that_rings_out_times_its_ringing(bridge: Bridge) -> None:
    before = read(ALL)
    await place(bridge, "+12025550102", ring_timeout_seconds=2)
    change = deltas(before, read(ALL))
    assert 0 < change.pop(RINGING_SUM) < 1.0
    assert change == {
        ACCEPTED: 1,
        REFUSED: 0,
        COMPLETED: 0,
        BUSY: 0,
        NO_ANSWER: 1,
        ANSWERED_COUNT: 0,
        ANSWERED_SUM: 0,
        RINGING_COUNT: 1,
    }
