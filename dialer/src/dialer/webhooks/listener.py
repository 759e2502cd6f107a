"""The bridge from the calls consumer's status changes to webhook deliveries.

:class:`WebhookStatusListener` fits ``dialer.calls.listeners.StatusListener`` (structurally, so this package
does not depend on the calls package): for each change a call's ``status_callback`` wants, it enqueues a
delivery in the consumer's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from dialer.webhooks.service import enqueue_status_callback


class CallLike(Protocol):
    """What the listener needs of a call record."""

    @property
    def id(self) -> object: ...

    @property
    def status(self) -> object: ...

    @property
    def status_callback(self) -> str | None: ...

    def wants_status_callback(self, status: Any) -> bool: ...


class WebhookStatusListener:
    """Enqueues a status callback for every change the call asked to hear about."""

    async def call_status_changed(
        self, session: AsyncSession, call: CallLike, event_type: str, payload: Mapping[str, Any]
    ) -> None:
        if call.status_callback is None or not call.wants_status_callback(call.status):
            return
        await enqueue_status_callback(
            session, call_id=str(call.id), url=call.status_callback, event_type=event_type, payload=payload
        )
