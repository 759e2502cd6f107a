"""The shared call status model: allowed transitions and how a channel's end maps to a final status."""

from __future__ import annotations

import pytest

from dialplane.calls import CallStatus, InvalidTransitionError, can_transition, final_status, next_status

S = CallStatus


@pytest.mark.parametrize(
    "path",
    [
        [S.QUEUED, S.DIALING, S.RINGING, S.ANSWERED, S.COMPLETED],
        [S.QUEUED, S.DIALING, S.ANSWERED, S.COMPLETED],  # answered without a ringing signal
        [S.QUEUED, S.DIALING, S.RINGING, S.BUSY],
        [S.QUEUED, S.DIALING, S.NO_ANSWER],
        [S.QUEUED, S.CANCELED],
        [S.QUEUED, S.DIALING, S.RINGING, S.CANCELED],
        [S.QUEUED, S.DIALING, S.ANSWERED, S.FAILED],
    ],
)
def test_the_lifecycles_a_call_can_have(path: list[CallStatus]) -> None:
    status = path[0]
    for target in path[1:]:
        status = next_status(status, target)
    assert status == path[-1]


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.COMPLETED, S.RINGING),  # a late event after the end
        (S.ANSWERED, S.RINGING),  # out of order
        (S.ANSWERED, S.BUSY),
        (S.ANSWERED, S.CANCELED),  # an answered call that we hang up completes
        (S.QUEUED, S.ANSWERED),
        (S.BUSY, S.FAILED),
        (S.DIALING, S.DIALING),
    ],
)
def test_transitions_the_state_machine_refuses(current: CallStatus, target: CallStatus) -> None:
    assert not can_transition(current, target)
    with pytest.raises(InvalidTransitionError, match=f"a {current} call cannot become {target}"):
        next_status(current, target)


def test_terminal_statuses_have_no_way_out() -> None:
    for terminal in (s for s in S if s.is_terminal):
        assert not any(can_transition(terminal, other) for other in S)


@pytest.mark.parametrize(
    ("answered", "cause", "hangup_requested", "status", "reason_part"),
    [
        (True, 16, False, S.COMPLETED, None),
        (True, 16, True, S.COMPLETED, None),
        (False, 17, False, S.BUSY, "busy"),
        (False, 21, False, S.BUSY, "rejected"),
        (False, 19, False, S.NO_ANSWER, "no answer"),
        (False, 16, False, S.NO_ANSWER, "no answer"),
        (False, 1, False, S.FAILED, "not allocated"),
        (False, 34, False, S.FAILED, "congestion"),
        (False, 0, False, S.FAILED, "unknown cause"),
        (False, 999, False, S.FAILED, "cause 999"),
        (False, 16, True, S.CANCELED, "on request"),
    ],
)
def test_how_a_channel_end_becomes_a_final_status(
    answered: bool, cause: int, hangup_requested: bool, status: CallStatus, reason_part: str | None
) -> None:
    end = final_status(answered=answered, cause=cause, hangup_requested=hangup_requested)
    assert end.status == status
    assert (end.reason is None) if reason_part is None else (reason_part in (end.reason or ""))
