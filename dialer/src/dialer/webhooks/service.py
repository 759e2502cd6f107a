"""Recording status callbacks: a delivery is written in the transaction that changes the call's status."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dialer.webhooks import repository


async def enqueue_status_callback(
    session: AsyncSession, *, call_id: str, url: str, event_type: str, payload: Mapping[str, Any]
) -> None:
    """Add a pending delivery of ``payload`` to ``url`` to the caller's transaction (no network I/O).

    It is stored, and runners are woken, only if that transaction commits. ``url`` is expected to have
    passed :func:`~dialer.webhooks.targets.validate_callback_url` when it was accepted; it is checked
    again (with DNS) at delivery time. ``payload`` must be JSON-serialisable (datetimes and UUIDs are
    written as strings) and becomes the ``data`` of the request body.
    """
    await repository.insert(session, call_id=call_id, url=url, event_type=event_type, payload=payload)
