"""A runner SIGKILLed in the middle of a delivery loses nothing: its lease expires, another runner
delivers, and the lost attempt is logged."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from dialer.webhooks.repository import LOST_ATTEMPT_ERROR
from dialer.webhooks.testing import HANG, Receiver, WebhookHarness

VICTIM = Path(__file__).with_name("runner_victim.py")
VICTIM_TIMEOUT = 1.0  # its leases last 2 * 1.0 + 1 = 3 s


async def test_a_delivery_whose_runner_was_killed_mid_attempt_is_delivered_by_another_runner(
    database_url: str, receiver: Receiver, webhooks: WebhookHarness
) -> None:
    url = receiver.answer("crash", HANG, then=204)
    await webhooks.enqueue("call-1", url, "call.completed", status="completed")
    victim = await asyncio.create_subprocess_exec(
        sys.executable, str(VICTIM), database_url, str(VICTIM_TIMEOUT)
    )
    try:
        await receiver.wait_for(1, "crash", within=30)
    finally:
        victim.kill()
        await victim.wait()

    await webhooks.start_runner()
    [delivery] = await webhooks.settled("call-1", within=10)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 2, 204)
    attempts = await webhooks.attempts(delivery.id)
    assert [(a.attempt, a.status_code, a.error, a.duration_ms) for a in attempts[:1]] == [
        (1, None, LOST_ATTEMPT_ERROR, None)
    ]
    assert [(a.attempt, a.status_code, a.error) for a in attempts[1:]] == [(2, 204, None)]
    first, second = receiver.received("crash")
    assert first.headers["x-dialplane-delivery"] == second.headers["x-dialplane-delivery"]
    assert first.body == second.body
    assert second.signature_valid
