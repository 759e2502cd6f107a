"""Every webhook delivered at least once.

The dialer enqueues a delivery (``webhook_deliveries``, ``pending`` until ``delivered`` or ``failed``) for
each status a call reached that its ``status_callback_events`` ask for, in the transaction that records the
status (``call_events``; for ``queued``, when the dialer's consumer handles the ``call.queued`` event). A
``failed`` delivery, or a status reached with no delivery, is a violation; a pending one is in flight.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncSession

from dialplane.audit.findings import Finding, Invariant, Scope, in_scope
from dialplane.calls import CALLS_STREAM, DIALER_CALLS_GROUP

_DELIVERIES = text(
    f"""
    SELECT w.id, w.call_id AS delivery_call_id, w.url, w.event_type, w.status, w.attempts,
           w.next_attempt_at, w.last_status_code, w.last_error,
           c.id AS call_id, c.campaign_id, c.lead_id, c.to_number
    FROM webhook_deliveries w LEFT JOIN calls c ON c.id::text = w.call_id
    WHERE w.status <> 'delivered' AND {in_scope("c.campaign_id")}
    ORDER BY w.id
    """
)
_MISSING = text(
    f"""
    SELECT c.id AS call_id, c.campaign_id, c.lead_id, c.to_number, c.status_callback AS url, t.status,
           (t.status = 'queued' AND EXISTS (
               SELECT 1 FROM events e JOIN event_consumer_groups g ON g.group_name = :group
               WHERE e.stream = :stream AND e.key = c.id::text AND e.type = 'call.queued'
                 AND (e.tx_id, e.id) > (g.tx_id, g.event_id))) AS awaited
    FROM calls c JOIN call_events t ON t.call_id = c.id
    WHERE c.status_callback IS NOT NULL AND c.refused_by IS NULL
      AND t.status = ANY(c.status_callback_events) AND {in_scope("c.campaign_id")}
      AND NOT EXISTS (
          SELECT 1 FROM webhook_deliveries w
          WHERE w.call_id = c.id::text AND w.event_type = 'call.' || t.status)
    ORDER BY c.id, t.id
    """
)


async def check_webhooks(session: AsyncSession, scope: Scope) -> list[Finding]:
    found = [_undelivered(row) for row in (await session.execute(_DELIVERIES, scope.params())).all()]
    params = {**scope.params(), "group": DIALER_CALLS_GROUP, "stream": CALLS_STREAM}
    for row in (await session.execute(_MISSING, params)).all():
        message = f"no delivery of call.{row.status} to {_host(row.url)} (the call reached {row.status})"
        if row.awaited:
            message = f"call.{row.status} to {_host(row.url)}: its event is not handled by the dialer yet"
        found.append(_finding(row, message, flight=row.awaited))
    return found


def _undelivered(row: Row[Any]) -> Finding:
    where = _host(row.url)
    subject = f"delivery {row.id} of {row.event_type} to {where}"
    attempts = row.attempts
    if row.status == "pending":
        when = row.next_attempt_at.isoformat()
        return _finding(row, f"{subject} pending ({attempts} attempts, next at {when})", flight=True)
    last = row.last_status_code or row.last_error or "no answer"
    finding = _finding(row, f"{subject} failed after {attempts} attempts (last: {str(last)[:200]})")
    if finding.call_id is None:  # a delivery for a call id that is not in ``calls``
        message = f"{finding.message}; call id {row.delivery_call_id}"
        return Finding(Invariant.WEBHOOKS, message)
    return finding


def _finding(row: Row[Any], message: str, *, flight: bool = False) -> Finding:
    return Finding(
        Invariant.WEBHOOKS,
        message,
        call_id=row.call_id,
        lead_id=row.lead_id,
        campaign_id=row.campaign_id,
        number=row.to_number,
        in_flight=flight,
    )


def _host(url: str) -> str:
    """Where a webhook goes, without its path or query (which may carry a token)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}" if parts.netloc else "(no host)"
