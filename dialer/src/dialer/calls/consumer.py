"""The dialer's consumer of the ``calls`` stream (group ``dialer-calls``): the bridge's ``call.<status>``
events update the call, through the shared state machine, in the consumer's transaction.

For each event: the call is read and locked; a status the state machine does not allow from the current one
(a late, repeated or out-of-order event) is ignored; otherwise the status, the time it was reached, and what
the bridge reports (node, trunk, answered_by, hangup cause and text, SIP code, failure reason, duration) are
stored, a timeline entry is added, and the :class:`StatusListener` hooks are called. The dialer's own
``call.queued`` changes nothing here; it only reaches the hooks.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from dialer.calls import repository
from dialer.calls.listeners import StatusListener
from dialer.calls.repository import CallRecord
from dialer.calls.views import call_json
from dialplane.calls import DIALER_CALLS_GROUP, CallStatus, can_transition
from dialplane.events import Event

log = structlog.get_logger(__name__)

CONSUMER_GROUP = DIALER_CALLS_GROUP

_TIMESTAMP_COLUMN = {
    CallStatus.DIALING: "dialed_at",
    CallStatus.RINGING: "ringing_at",
    CallStatus.ANSWERED: "answered_at",
}
_REPORTED = ("answered_by", "hangup_cause", "hangup_cause_text", "sip_code", "failure_reason")
_KEPT_UNLESS_NULL = ("node", "trunk", "duration_seconds", "abandoned")
_NOT_DETAILS = frozenset({"call_id", "status", "at", "call"})


class CallEvents:
    def __init__(self, listeners: Sequence[StatusListener]) -> None:
        self._listeners = listeners  # read at each event: listeners added after start are called too

    async def handle(self, session: AsyncSession, event: Event) -> None:
        status, call_id = _status(event.type), _uuid(event.key)
        if status is None or call_id is None:
            return
        with structlog.contextvars.bound_contextvars(call_id=str(call_id)):
            if status is CallStatus.QUEUED:
                call = await repository.get(session, call_id)
            else:
                call = await self._apply(session, call_id, status, event)
            if call is not None:
                await self._notify(session, call, event, _at(event))

    async def _apply(
        self, session: AsyncSession, call_id: uuid.UUID, status: CallStatus, event: Event
    ) -> CallRecord | None:
        call = await repository.get(session, call_id, lock=True)
        if call is None or not can_transition(call.status, status):
            current = call.status.value if call else None
            log.debug("call_event_ignored", event_type=event.type, current=current)
            return None
        at = _at(event)
        changed = await repository.update_call(session, call_id, **_changes(call, status, event.data, at))
        await repository.add_timeline_entry(session, call_id, status, at, _details(event.data))
        log.info("call_status", status=status.value, previous=call.status.value)
        return changed

    async def _notify(self, session: AsyncSession, call: CallRecord, event: Event, at: dt.datetime) -> None:
        if not self._listeners:
            return
        payload = {
            "type": event.type,
            "at": at.isoformat(),
            "previous_status": event.data.get("previous_status"),
            "call": call_json(call),
        }
        for listener in self._listeners:
            await listener.call_status_changed(session, call, event.type, payload)


def _changes(
    call: CallRecord, status: CallStatus, data: Mapping[str, Any], at: dt.datetime
) -> dict[str, Any]:
    changes: dict[str, Any] = {"status": status.value}
    column = _TIMESTAMP_COLUMN.get(status, "ended_at" if status.is_terminal else None)
    if column is not None and getattr(call, column) is None:
        changes[column] = at
    changes.update({name: data[name] for name in _REPORTED if name in data})
    changes.update({name: data[name] for name in _KEPT_UNLESS_NULL if data.get(name) is not None})
    return changes


def _details(data: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in data.items() if name not in _NOT_DETAILS and value is not None}


def _status(event_type: str) -> CallStatus | None:
    prefix, _, name = event_type.partition(".")
    if prefix != "call":
        return None
    try:
        return CallStatus(name)
    except ValueError:
        return None


def _uuid(key: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(key)
    except ValueError:
        return None


def _at(event: Event) -> dt.datetime:
    """When the status was reached: the event's ``at``, else when it was published."""
    try:
        at = dt.datetime.fromisoformat(str(event.data["at"]))
    except (KeyError, ValueError):
        return event.created_at
    return at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)
