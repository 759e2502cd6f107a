"""Deliveries to a real local receiver: signed, retried with backoff, cut off at the timeout, in order
per call, and never holding other calls back."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from prometheus_client import REGISTRY

from dialer.webhooks.sender import USER_AGENT
from dialer.webhooks.testing import HANG, Receiver, WebhookHarness
from dialplane.events import PostgresEventStream
from dialplane.log import configure_logging


def delivered_count(outcome: str) -> float:
    value = REGISTRY.get_sample_value("dialplane_webhook_deliveries_total", {"outcome": outcome})
    return value or 0.0


async def test_a_delivery_arrives_signed_and_is_marked_delivered_with_one_attempt_logged(
    receiver: Receiver, webhooks: WebhookHarness
) -> None:
    url = receiver.answer("hooks/status?token=abc", 204)
    before = delivered_count("delivered")
    await webhooks.start_runner()
    await webhooks.enqueue("call-1", url, "call.answered", status="answered", answered_by="human")

    [delivery] = await webhooks.settled("call-1")
    [request] = receiver.received("hooks/status")
    assert request.signature_valid
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"] == USER_AGENT
    assert request.headers["x-dialplane-event"] == "call.answered"
    assert request.headers["x-dialplane-delivery"] == str(delivery.id)
    assert abs(int(request.headers["x-dialplane-timestamp"]) - time.time()) < 5
    assert json.loads(request.body) == {"status": "answered", "answered_by": "human"}
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 204)
    assert delivery.delivered_at is not None
    [attempt] = await webhooks.attempts(delivery.id)
    assert (attempt.attempt, attempt.status_code, attempt.error) == (1, 204, None)
    assert attempt.duration_ms is not None
    assert delivered_count("delivered") == before + 1


async def test_a_receiver_failing_twice_gets_the_delivery_on_the_third_attempt(
    receiver: Receiver, webhooks: WebhookHarness
) -> None:
    url = receiver.answer("flaky", 500, 500, then=200)
    retries_before = delivered_count("retry")
    await webhooks.start_runner(max_attempts=5)
    await webhooks.enqueue("call-1", url, "call.completed", status="completed")

    [delivery] = await webhooks.settled("call-1")
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 3, 200)
    attempts = await webhooks.attempts(delivery.id)
    assert [(a.attempt, a.status_code, a.error) for a in attempts] == [
        (1, 500, "HTTP 500"),
        (2, 500, "HTTP 500"),
        (3, 200, None),
    ]
    requests = receiver.received("flaky")
    assert len({r.headers["x-dialplane-delivery"] for r in requests}) == 1
    assert len({r.body for r in requests}) == 1  # the same body on every attempt
    assert all(r.signature_valid for r in requests)
    assert delivered_count("retry") == retries_before + 2


async def test_a_receiver_that_never_answers_fails_after_its_attempts_without_holding_up_other_calls(
    receiver: Receiver, webhooks: WebhookHarness
) -> None:
    silent = receiver.answer("silent", then=HANG)
    fast = receiver.answer("fast")
    await webhooks.start_runner(timeout_seconds=0.5, max_attempts=2)
    await webhooks.enqueue("call-slow", silent, "call.ringing")
    [hanging] = await receiver.wait_for(1, "silent")

    for n in range(3):
        await webhooks.enqueue(f"call-{n}", fast, "call.ringing")
    arrived = await receiver.wait_for(3, "fast")
    assert all(r.at < hanging.at + 0.5 for r in arrived)  # while the first silent attempt still hung

    [slow] = await webhooks.settled("call-slow")
    assert (slow.status, slow.attempts, slow.last_status_code) == ("failed", 2, None)
    attempts = await webhooks.attempts(slow.id)
    assert [(a.status_code, a.error) for a in attempts] == [(None, "timed out after 0.5 s")] * 2
    assert all(a.duration_ms is not None and 450 <= a.duration_ms < 1500 for a in attempts)
    assert len(receiver.received("silent")) == 2


async def test_the_deliveries_of_a_call_arrive_in_order_even_when_the_first_needs_retries(
    receiver: Receiver, webhooks: WebhookHarness
) -> None:
    url = receiver.answer("ordered", 500, 503, then=200)
    await webhooks.start_runner(max_attempts=5)
    await webhooks.start_runner(max_attempts=5)  # two competing runners keep the order too
    for event_type in ("call.dialing", "call.ringing", "call.answered", "call.completed"):
        await webhooks.enqueue("call-1", url, event_type)

    deliveries = await webhooks.settled("call-1")
    assert [d.status for d in deliveries] == ["delivered"] * 4
    arrived = [r.event_type for r in receiver.received("ordered")]
    assert arrived == ["call.dialing"] * 3 + ["call.ringing", "call.answered", "call.completed"]


async def test_a_delivery_that_finally_failed_no_longer_holds_back_the_next_of_its_call(
    receiver: Receiver, webhooks: WebhookHarness
) -> None:
    failing = receiver.answer("failing", then=500)
    working = receiver.answer("working")
    await webhooks.start_runner(max_attempts=2)
    await webhooks.enqueue("call-1", failing, "call.answered")
    await webhooks.enqueue("call-1", working, "call.completed")

    first, second = await webhooks.settled("call-1")
    assert (first.status, first.attempts, first.last_error) == ("failed", 2, "HTTP 500")
    assert (second.status, second.attempts) == ("delivered", 1)
    assert receiver.received("working")[0].at > receiver.received("failing")[-1].at


async def test_redirects_are_not_followed_but_retried(receiver: Receiver, webhooks: WebhookHarness) -> None:
    url = receiver.answer("moved", 307, then=200)
    await webhooks.start_runner()
    await webhooks.enqueue("call-1", url, "call.answered")

    [delivery] = await webhooks.settled("call-1")
    attempts = await webhooks.attempts(delivery.id)
    assert [(a.status_code, a.error) for a in attempts] == [(307, "HTTP 307"), (200, None)]
    assert receiver.received("moved-redirected") == []


async def test_logs_bind_the_call_and_delivery_and_show_neither_the_secret_nor_the_query(
    receiver: Receiver, webhooks: WebhookHarness, capsys: pytest.CaptureFixture[str]
) -> None:
    url = receiver.answer("logged?token=query-secret", 500, then=200)
    configure_logging(level="INFO", json=True, service="dialer")
    try:
        await webhooks.start_runner()
        await webhooks.enqueue("call-7", url, "call.answered")
        [delivery] = await webhooks.settled("call-7")
        err = capsys.readouterr().err
    finally:
        configure_logging(level="INFO", json=False)
    assert "query-secret" not in err
    assert webhooks.config.signing_secret not in err
    lines = [json.loads(line) for line in err.splitlines()]
    events = {line["event"]: line for line in lines if line.get("call_id") == "call-7"}
    assert set(events) == {"webhook_attempt_failed", "webhook_delivered"}
    assert events["webhook_delivered"]["delivery_id"] == delivery.id
    assert events["webhook_delivered"]["host"] == "127.0.0.1"
    assert events["webhook_attempt_failed"]["status_code"] == 500


async def test_an_enqueued_delivery_wakes_a_listening_runner_long_before_its_next_poll(
    receiver: Receiver, webhooks: WebhookHarness, event_stream: PostgresEventStream
) -> None:
    url = receiver.answer("woken")
    await webhooks.start_runner(listener=event_stream.listener, poll_interval_seconds=30)
    await asyncio.wait_for(event_stream.listener.connected.wait(), 5)
    await webhooks.enqueue("call-1", url, "call.ringing")
    await webhooks.settled("call-1", within=2)  # the runner is up (found it by poll or by wake-up)
    await asyncio.sleep(0.2)  # ... and back to waiting for its next poll, 30 s away

    await webhooks.enqueue("call-2", url, "call.ringing")
    [delivery] = await webhooks.settled("call-2", within=2)
    assert delivery.status == "delivered"
