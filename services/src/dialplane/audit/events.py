"""No event lost: each call's events on the ``calls`` stream are complete and in order — ``call.queued``,
then transitions the shared state machine (:mod:`dialplane.calls`) allows, each naming the status before it,
and one terminal event last — and the call row agrees with them.

A call refused by the dial-time policy (``refused_by``) is stored ``failed`` without events and is not
checked here. An event the dialer's consumer group has not reached yet is in flight, not lost.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from dialplane.audit.findings import Finding, Invariant, Scope, in_scope
from dialplane.calls import CALLS_STREAM, DIALER_CALLS_GROUP, CallStatus, can_transition

_CALLS = text(
    f"""
    SELECT id, status, campaign_id, lead_id, to_number FROM calls
    WHERE refused_by IS NULL AND {in_scope("campaign_id")}
    ORDER BY id
    """
)
_EVENTS = text(
    f"""
    SELECT c.id AS call_id, e.id, e.type, e.data ->> 'previous_status' AS previous,
           COALESCE((e.tx_id, e.id) <= (g.tx_id, g.event_id), true) AS consumed
    FROM calls c
    JOIN events e ON e.stream = :stream AND e.key = c.id::text
    LEFT JOIN event_consumer_groups g ON g.group_name = :group
    WHERE c.refused_by IS NULL AND {in_scope("c.campaign_id")}
    ORDER BY c.id, e.tx_id, e.id
    """
)
_DEAD_LETTERS = text(
    f"""
    SELECT c.id AS call_id, c.campaign_id, c.lead_id, e.type, d.error
    FROM event_dead_letters d
    JOIN events e ON e.id = d.event_id AND e.stream = :stream
    JOIN calls c ON c.id::text = e.key
    WHERE d.group_name = :group AND {in_scope("c.campaign_id")}
    ORDER BY d.id
    """
)


@dataclass(frozen=True, slots=True)
class CallRow:
    id: uuid.UUID
    status: CallStatus
    campaign_id: uuid.UUID | None
    lead_id: uuid.UUID | None
    to_number: str


@dataclass(frozen=True, slots=True)
class CallEvent:
    type: str
    previous: str | None  # the ``previous_status`` the event names, if any
    consumed: bool  # the dialer's consumer group has handled it

    @property
    def status(self) -> CallStatus | None:
        prefix, _, name = self.type.partition(".")
        try:
            return CallStatus(name) if prefix == "call" else None
        except ValueError:
            return None


async def check_events(session: AsyncSession, scope: Scope) -> list[Finding]:
    params = {**scope.params(), "stream": CALLS_STREAM, "group": DIALER_CALLS_GROUP}
    calls = [
        CallRow(row.id, CallStatus(row.status), row.campaign_id, row.lead_id, row.to_number)
        for row in (await session.execute(_CALLS, scope.params())).all()
    ]
    events: dict[uuid.UUID, list[CallEvent]] = defaultdict(list)
    for row in (await session.execute(_EVENTS, params)).all():
        events[row.call_id].append(CallEvent(row.type, row.previous, row.consumed))
    found = [finding for call in calls for finding in call_findings(call, events.get(call.id, []))]
    return found + await _dead_letters(session, params)


def call_findings(call: CallRow, events: Sequence[CallEvent]) -> list[Finding]:
    """What is wrong with (or still in flight on) one call, given its events oldest first: at most one
    finding about the sequence (its first problem, and the whole sequence) and one about the call row."""
    if not events:
        return [_finding(call, f"{call.status} but it has no events at all (call.queued is missing)")]
    reached, problem = _walk(events)
    found = []
    if problem is not None:
        sequence = ", ".join(event.type for event in events)
        found.append(_finding(call, f"{problem}; its events: {sequence}"))
    return found + _against_row(call, reached, consumed=events[-1].consumed)


def _walk(events: Sequence[CallEvent]) -> tuple[CallStatus | None, str | None]:
    """The status the events lead to (events the state machine refuses are skipped, as the dialer skips
    them), and the first thing wrong with their order."""
    current: CallStatus | None = None
    problems = []
    if events[0].status is not CallStatus.QUEUED:
        problems.append(f"its first event is {events[0].type}, not call.queued")
    for event in events:
        status = event.status
        if status is None:
            problems.append(f"an event of unknown type {event.type!r}")
        elif current is None:
            current = status
        elif current.is_terminal:
            problems.append(f"{event.type} after the terminal call.{current}")
        elif not can_transition(current, status):
            problems.append(f"{event.type} follows call.{current}: the state machine forbids it")
        else:
            if event.previous is not None and event.previous != current.value:
                problems.append(
                    f"{event.type} names call.{event.previous} before it, but the events before it"
                    f" end at call.{current} (an event is missing)"
                )
            current = status
    return current, problems[0] if problems else None


def _against_row(call: CallRow, reached: CallStatus | None, *, consumed: bool) -> list[Finding]:
    """The call row against the status its events reach (the last event may not be applied yet)."""
    if reached is None:
        return []
    if call.status.is_terminal and not reached.is_terminal:
        return [_finding(call, f"{call.status}, but its events end at call.{reached}: no terminal event")]
    if call.status is not reached:
        if consumed:
            return [_finding(call, f"{call.status}, but its events (all applied) end at call.{reached}")]
        return [_finding(call, f"{call.status}; call.{reached} not applied by the dialer yet", flight=True)]
    if not reached.is_terminal:
        return [_finding(call, f"still {reached}", flight=True, invariant=Invariant.FINAL_STATE)]
    return []


def _finding(
    call: CallRow, message: str, *, flight: bool = False, invariant: Invariant = Invariant.EVENTS
) -> Finding:
    return Finding(
        invariant,
        message,
        call_id=call.id,
        lead_id=call.lead_id,
        campaign_id=call.campaign_id,
        number=call.to_number,
        in_flight=flight,
    )


async def _dead_letters(session: AsyncSession, params: dict[str, object]) -> list[Finding]:
    rows = (await session.execute(_DEAD_LETTERS, params)).all()
    return [
        Finding(
            Invariant.EVENTS,
            f"the dialer gave up on its {row.type} event (dead letter: {row.error[:200]})",
            call_id=row.call_id,
            lead_id=row.lead_id,
            campaign_id=row.campaign_id,
        )
        for row in rows
    ]
