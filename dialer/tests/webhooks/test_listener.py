"""The calls consumer's status changes become deliveries, in its transaction, only when the call asked."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from dialer.webhooks import WebhookStatusListener, repository
from dialplane.db import SessionFactory, transaction


@dataclass(frozen=True)
class Call:
    id: uuid.UUID
    status: str
    status_callback: str | None
    status_callback_events: list[str] = field(default_factory=lambda: ["answered", "completed"])

    def wants_status_callback(self, status: str) -> bool:
        return self.status_callback is not None and status in self.status_callback_events


async def test_only_the_changes_the_call_asked_for_are_enqueued(sessions: SessionFactory) -> None:
    listener = WebhookStatusListener()
    call_id = uuid.uuid4()
    async with transaction(sessions) as session:
        for status in ("ringing", "answered", "completed"):
            call = Call(call_id, status, "https://hooks.example.com/status")
            payload = {"type": f"call.{status}", "call": {"id": str(call_id), "status": status}}
            await listener.call_status_changed(session, call, f"call.{status}", payload)
        await listener.call_status_changed(
            session, Call(uuid.uuid4(), "answered", None), "call.answered", {"type": "call.answered"}
        )

    async with transaction(sessions) as session:
        deliveries = await repository.list_for_call(session, str(call_id))
    assert [(d.event_type, d.url, d.status) for d in deliveries] == [
        ("call.answered", "https://hooks.example.com/status", "pending"),
        ("call.completed", "https://hooks.example.com/status", "pending"),
    ]
    expected = {"type": "call.answered", "call": {"id": str(call_id), "status": "answered"}}
    assert deliveries[0].payload == expected
