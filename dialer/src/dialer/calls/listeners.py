"""The hook through which other parts of the dialer (webhook delivery) hear about call status changes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from dialer.calls.repository import CallRecord


class StatusListener(Protocol):
    """Told about every status change the dialer applies to a call, in the same transaction as the change.

    Called by the ``calls`` consumer (group ``dialer-calls``) once per applied change, in order per call:
    ``call.queued`` when the consumer reaches the call's own ``call.queued`` event, then one per bridge event
    that changed the call; late or out-of-order events, which change nothing, are not passed on. Every
    change is passed, whatever the call's ``status_callback_events``: a listener filters for itself
    (``call.wants_status_callback(call.status)``).

    ``call`` is the row after the change. ``payload`` is JSON-ready:
    ``{"type": "call.<status>", "at": <ISO time of the change>, "previous_status": <status or null>,
    "call": <the call as GET /api/v1/calls/{id} returns it>}``.

    Write in ``session`` and do not commit; raising rolls the change back and the event is delivered again
    (with backoff; dead-lettered after the consumer's max attempts), so a listener must not do slow I/O here:
    record the work (an outbox row, a command) and do it elsewhere.
    """

    async def call_status_changed(
        self, session: AsyncSession, call: CallRecord, event_type: str, payload: Mapping[str, Any]
    ) -> None: ...
