"""The consumer of the calls stream applies the bridge's call.<status> events through the state machine:
in order, ignoring late and out-of-order ones, and tells the status listeners about each applied change."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest_asyncio

from dialer.settings import Settings
from dialer.testing import (
    RecordingListener,
    consumer_caught_up,
    dialer_client,
    publish_bridge_event,
    wait_for_call,
)
from dialplane.calls import CallStatus
from dialplane.db import SessionFactory, transaction
from dialplane.events import NewEvent, PostgresEventStream

T0 = dt.datetime(2026, 3, 10, 16, 0, tzinfo=dt.UTC)


@pytest_asyncio.fixture
async def listener() -> RecordingListener:
    return RecordingListener()


@pytest_asyncio.fixture
async def listened(
    settings: Settings, sessions: SessionFactory, listener: RecordingListener
) -> AsyncIterator[httpx.AsyncClient]:
    async with dialer_client(settings, status_listeners=[listener]) as client:
        yield client


async def _call(client: httpx.AsyncClient, **body: Any) -> str:
    response = await client.post("/api/v1/calls", json={"to": "+12025550100", **body})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _answered_and_completed(
    sessions: SessionFactory, stream: PostgresEventStream, call_id: str
) -> None:
    at = [T0 + dt.timedelta(seconds=s) for s in (1, 2, 5, 12.5)]
    await publish_bridge_event(sessions, stream, call_id, CallStatus.DIALING, CallStatus.QUEUED, at=at[0])
    await publish_bridge_event(sessions, stream, call_id, CallStatus.RINGING, CallStatus.DIALING, at=at[1])
    await publish_bridge_event(
        sessions, stream, call_id, CallStatus.ANSWERED, CallStatus.RINGING, at=at[2], answered_by="human"
    )
    await publish_bridge_event(
        sessions,
        stream,
        call_id,
        CallStatus.COMPLETED,
        CallStatus.ANSWERED,
        at=at[3],
        duration_seconds=7.5,
        hangup_cause=16,
        hangup_cause_text="Normal Clearing",
        sip_code=200,
        failure_reason=None,
    )


async def test_bridge_events_are_applied_in_order(
    client: httpx.AsyncClient, sessions: SessionFactory, event_stream: PostgresEventStream
) -> None:
    call_id = await _call(client)
    await _answered_and_completed(sessions, event_stream, call_id)

    call = await wait_for_call(client, call_id, "completed")

    assert call["dialed_at"] == "2026-03-10T16:00:01Z"
    assert call["ringing_at"] == "2026-03-10T16:00:02Z"
    assert call["answered_at"] == "2026-03-10T16:00:05Z"
    assert call["ended_at"] == "2026-03-10T16:00:12.500000Z"
    assert call["duration"] == 7.5 and call["answered_by"] == "human"
    assert (call["hangup_cause"], call["hangup_cause_text"], call["sip_code"]) == (16, "Normal Clearing", 200)
    assert call["failure_reason"] is None
    assert call["is_completed"] and not call["is_active"]
    timeline = (await client.get(f"/api/v1/calls/{call_id}/events")).json()["items"]
    assert [entry["status"] for entry in timeline] == [
        "queued",
        "dialing",
        "ringing",
        "answered",
        "completed",
    ]
    assert timeline[1]["details"] == {"previous_status": "queued", "node": "local", "trunk": "test-carrier"}


async def test_an_active_call_says_so(
    client: httpx.AsyncClient, sessions: SessionFactory, event_stream: PostgresEventStream
) -> None:
    call_id = await _call(client)
    await publish_bridge_event(sessions, event_stream, call_id, CallStatus.DIALING, CallStatus.QUEUED)
    call = await wait_for_call(client, call_id, "dialing")
    assert call["is_active"] and not call["is_completed"] and call["dialed_at"] is not None


async def test_late_repeated_and_out_of_order_events_are_ignored(
    client: httpx.AsyncClient, sessions: SessionFactory, event_stream: PostgresEventStream
) -> None:
    call_id = await _call(client)
    await _answered_and_completed(sessions, event_stream, call_id)
    late = T0 + dt.timedelta(minutes=5)
    await publish_bridge_event(
        sessions, event_stream, call_id, CallStatus.RINGING, CallStatus.DIALING, at=late
    )
    await publish_bridge_event(
        sessions,
        event_stream,
        call_id,
        CallStatus.FAILED,
        CallStatus.ANSWERED,
        at=late,
        failure_reason="late",
    )
    await publish_bridge_event(
        sessions, event_stream, call_id, CallStatus.COMPLETED, CallStatus.ANSWERED, at=late
    )
    await consumer_caught_up(sessions)

    call = (await client.get(f"/api/v1/calls/{call_id}")).json()
    timeline = (await client.get(f"/api/v1/calls/{call_id}/events")).json()["items"]
    assert call["status"] == "completed" and call["failure_reason"] is None
    assert call["ended_at"] == "2026-03-10T16:00:12.500000Z"
    assert [entry["status"] for entry in timeline] == [
        "queued",
        "dialing",
        "ringing",
        "answered",
        "completed",
    ]


async def test_a_skipped_step_is_refused_by_the_state_machine(
    client: httpx.AsyncClient, sessions: SessionFactory, event_stream: PostgresEventStream
) -> None:
    call_id = await _call(client)
    await publish_bridge_event(sessions, event_stream, call_id, CallStatus.COMPLETED, CallStatus.ANSWERED)
    await publish_bridge_event(sessions, event_stream, call_id, CallStatus.DIALING, CallStatus.QUEUED)
    await publish_bridge_event(
        sessions, event_stream, call_id, CallStatus.BUSY, CallStatus.DIALING, hangup_cause=17, sip_code=486,
        failure_reason="the line is busy",
    )  # fmt: skip

    call = await wait_for_call(client, call_id, "busy")
    assert (
        call["sip_code"] == 486
        and call["hangup_cause"] == 17
        and call["failure_reason"] == "the line is busy"
    )
    assert call["answered_at"] is None and call["duration"] is None


async def test_events_of_unknown_calls_and_foreign_keys_do_not_stop_the_consumer(
    client: httpx.AsyncClient, sessions: SessionFactory, event_stream: PostgresEventStream
) -> None:
    await publish_bridge_event(
        sessions, event_stream, str(uuid.uuid4()), CallStatus.DIALING, CallStatus.QUEUED
    )
    await publish_bridge_event(sessions, event_stream, "bridge-test-1", CallStatus.DIALING, CallStatus.QUEUED)
    async with transaction(sessions) as session:
        await event_stream.publish(session, NewEvent("calls", "x", "call.exploded", {}))
        await event_stream.publish(session, NewEvent("calls", "y", "other", {}))
    call_id = await _call(client)
    await publish_bridge_event(sessions, event_stream, call_id, CallStatus.DIALING, CallStatus.QUEUED)
    await wait_for_call(client, call_id, "dialing")


async def test_listeners_hear_each_applied_change_in_the_consumer_transaction(
    listened: httpx.AsyncClient,
    listener: RecordingListener,
    sessions: SessionFactory,
    event_stream: PostgresEventStream,
) -> None:
    call_id = await _call(
        listened, status_callback="https://example.com/h", status_callback_events=["completed"]
    )
    await _answered_and_completed(sessions, event_stream, call_id)
    await publish_bridge_event(
        sessions, event_stream, call_id, CallStatus.RINGING, CallStatus.DIALING
    )  # late
    await consumer_caught_up(sessions)

    types = [event_type for cid, event_type, _ in listener.calls if cid == call_id]
    assert types == ["call.queued", "call.dialing", "call.ringing", "call.answered", "call.completed"]
    _, _, payload = listener.calls[-1]
    assert payload["type"] == "call.completed" and payload["previous_status"] == "answered"
    assert payload["at"] == "2026-03-10T16:00:12.500000+00:00"
    assert payload["call"]["status"] == "completed" and payload["call"]["id"] == call_id
    assert payload["call"]["status_callback_events"] == ["completed"]
