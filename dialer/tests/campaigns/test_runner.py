"""The campaign runner over the test database, with a stand-in for the bridge's events: it dials due leads
within the campaign's concurrency, rate and the free capacity of agents and trunks; never dials a listed
number or a lead outside its hours (the refusal is recorded, the lead waits for its next opening); retries
per policy until exhausted; follows conversations to the lead's final status; pauses itself before the
abandon limit; completes when no lead is left."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import httpx
from prometheus_client import REGISTRY
from sqlalchemy import select, text

from dialer.campaigns.testing import add_lead, campaign_lead, report_capacity
from dialer.policy import do_not_call
from dialer.tables import calls, dial_refusals
from dialer.testing import FixedClock, consumer_caught_up, publish_bridge_event
from dialplane.calls import CONVERSATION_ENDED, CONVERSATIONS_STREAM, CallStatus
from dialplane.db import SessionFactory, transaction
from dialplane.events import NewEvent, PostgresEventStream

QUICK_RETRIES = {
    "busy": {"delay_seconds": 60, "max_attempts": 2},
    "no_answer": {"delay_seconds": 60, "max_attempts": 2},
}


# All day: retries are due at the database's time (the call's end + the delay), which the tests put on the
# fixed clock, so the campaign's default hours (08:00-21:00) would make them depend on the time of day.
ALL_DAY = {"start_time": "00:00", "end_time": "23:59:59"}


async def start_campaign(client: httpx.AsyncClient, lead_ids: list[uuid.UUID], **settings: Any) -> str:
    body = {
        "name": "test",
        "leads": {"lead_ids": [str(i) for i in lead_ids]},
        "schedule": ALL_DAY,
        **settings,
    }
    created = await client.post("/api/v1/campaigns", json=body)
    assert created.status_code == 201, created.text
    campaign_id: str = created.json()["id"]
    assert (await client.post(f"/api/v1/campaigns/{campaign_id}/start")).status_code == 200
    return campaign_id


async def campaign_calls(sessions: SessionFactory, campaign_id: str) -> list[dict[str, Any]]:
    async with transaction(sessions) as session:
        query = (
            select(calls).where(calls.c.campaign_id == uuid.UUID(campaign_id)).order_by(calls.c.created_at)
        )
        return [dict(row._mapping) for row in (await session.execute(query)).all()]


async def eventually(check: Callable[[], Any], within: float = 10.0) -> Any:
    async with asyncio.timeout(within):
        while not (result := await check()):
            await asyncio.sleep(0.05)
        return result


async def calls_count(sessions: SessionFactory, campaign_id: str, count: int) -> list[dict[str, Any]]:
    async def enough() -> list[dict[str, Any]] | None:
        found = await campaign_calls(sessions, campaign_id)
        return found if len(found) >= count else None

    found: list[dict[str, Any]] = await eventually(enough)
    await asyncio.sleep(0.5)  # a few more rounds: nothing more may be dialed
    found = await campaign_calls(sessions, campaign_id)
    assert len(found) == count, [c["to_number"] for c in found]
    return found


async def end_call(
    sessions: SessionFactory,
    stream: PostgresEventStream,
    call_id: uuid.UUID,
    status: CallStatus,
    **fields: Any,
) -> None:
    key = str(call_id)
    await publish_bridge_event(sessions, stream, key, CallStatus.DIALING, CallStatus.QUEUED)
    if status is CallStatus.COMPLETED:
        await publish_bridge_event(sessions, stream, key, CallStatus.ANSWERED, CallStatus.DIALING, **fields)
        await publish_bridge_event(sessions, stream, key, status, CallStatus.ANSWERED)
    else:
        await publish_bridge_event(sessions, stream, key, status, CallStatus.DIALING, **fields)
    await consumer_caught_up(sessions)


async def test_dials_within_the_concurrency_and_refills_as_calls_end(
    client: httpx.AsyncClient, sessions: SessionFactory, event_stream: PostgresEventStream
) -> None:
    def pacing_transactions(outcome: str) -> float:
        labels = {"outcome": outcome}
        return REGISTRY.get_sample_value("dialplane_dialer_campaign_pace_seconds_count", labels) or 0.0

    dialed_before = pacing_transactions("dialed")
    await report_capacity(sessions)
    leads = [await add_lead(sessions, f"+1202555010{n}") for n in range(5)]
    campaign_id = await start_campaign(client, leads, max_concurrent_calls=2, calls_per_second=100)
    first = await calls_count(sessions, campaign_id, 2)
    # every pacing transaction that placed a call is timed (one or two here: two calls were placed)
    assert 1 <= pacing_transactions("dialed") - dialed_before <= 2
    assert all(call["mode"] == "agent" and call["lead_id"] in leads for call in first)
    await end_call(sessions, event_stream, first[0]["id"], CallStatus.BUSY)
    await calls_count(sessions, campaign_id, 3)
    state = await campaign_lead(sessions, campaign_id, first[0]["lead_id"])
    assert state["status"] == "no_answer" and state["last_result"] == "busy" and state["attempts"] == 1


async def test_no_free_agent_no_dial(client: httpx.AsyncClient, sessions: SessionFactory) -> None:
    lead = await add_lead(sessions, "+12025550100")
    campaign_id = await start_campaign(client, [lead], calls_per_second=100)
    await asyncio.sleep(0.6)
    assert await campaign_calls(sessions, campaign_id) == []
    await report_capacity(sessions, agents=1)
    await calls_count(sessions, campaign_id, 1)


async def test_the_rate_holds_while_the_clock_stands_still(
    client: httpx.AsyncClient, sessions: SessionFactory, clock: FixedClock
) -> None:
    await report_capacity(sessions)
    leads = [await add_lead(sessions, f"+1202555010{n}") for n in range(6)]
    campaign_id = await start_campaign(client, leads, max_concurrent_calls=10, calls_per_second=1)
    await calls_count(sessions, campaign_id, 2)  # one second of burst: the calls at t-1 s and t
    clock.now += dt.timedelta(seconds=1)
    await calls_count(sessions, campaign_id, 3)


async def test_a_listed_number_and_a_lead_outside_its_hours_are_never_dialed(
    client: httpx.AsyncClient, sessions: SessionFactory, clock: FixedClock
) -> None:
    await report_capacity(sessions)
    clock.now = dt.datetime(2026, 3, 10, 13, 0, tzinfo=dt.UTC)  # 09:00 in New York, 06:00 in Los Angeles
    async with transaction(sessions) as session:
        await do_not_call.add(session, "+12125550123", reason="asked")
    listed = await add_lead(sessions, "+12125550123")
    early = await add_lead(sessions, "+13105550123")  # Los Angeles
    fine = await add_lead(sessions, "+12125550124")
    campaign_id = await start_campaign(client, [listed, early, fine], calls_per_second=100)
    dialed = await calls_count(sessions, campaign_id, 1)
    assert dialed[0]["lead_id"] == fine
    assert (await campaign_lead(sessions, campaign_id, listed))["status"] == "do_not_call"
    waiting = await campaign_lead(sessions, campaign_id, early)
    assert waiting["status"] == "pending"
    assert waiting["next_attempt_at"] == dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)  # 08:00 in LA
    async with transaction(sessions) as session:
        rows = (await session.execute(select(dial_refusals.c.lead_id, dial_refusals.c.rule))).all()
    assert sorted((row.rule, row.lead_id == listed) for row in rows) == [
        ("calling_hours", False),
        ("do_not_call", True),
    ]
    clock.now = dt.datetime(2026, 3, 10, 15, 0, 1, tzinfo=dt.UTC)
    later = await calls_count(sessions, campaign_id, 2)
    assert later[1]["lead_id"] == early


async def test_busy_is_retried_per_policy_then_exhausted_and_the_campaign_completes(
    client: httpx.AsyncClient, sessions: SessionFactory, event_stream: PostgresEventStream, clock: FixedClock
) -> None:
    await report_capacity(sessions)
    lead = await add_lead(sessions, "+12025550101")
    campaign_id = await start_campaign(client, [lead], calls_per_second=100, retry_policy=QUICK_RETRIES)
    first = await calls_count(sessions, campaign_id, 1)
    await end_call(sessions, event_stream, first[0]["id"], CallStatus.BUSY)
    waiting = await campaign_lead(sessions, campaign_id, lead)
    assert waiting["status"] == "no_answer" and waiting["next_attempt_at"] is not None
    clock.now = waiting["next_attempt_at"] + dt.timedelta(seconds=1)
    second = await calls_count(sessions, campaign_id, 2)
    assert second[1]["attempt_number"] == 2
    await end_call(sessions, event_stream, second[1]["id"], CallStatus.BUSY)
    final = await campaign_lead(sessions, campaign_id, lead)
    assert final["status"] == "exhausted" and final["next_attempt_at"] is None and final["attempts"] == 2
    campaign = await eventually(lambda: _campaign_if(client, campaign_id, "completed"))
    assert campaign["status_reason"] == "every lead has reached a final status"


async def _campaign_if(client: httpx.AsyncClient, campaign_id: str, status: str) -> dict[str, Any] | None:
    campaign: dict[str, Any] = (await client.get(f"/api/v1/campaigns/{campaign_id}")).json()
    return campaign if campaign["status"] == status else None


async def conversation_ended(
    sessions: SessionFactory, stream: PostgresEventStream, call_id: uuid.UUID, **data: Any
) -> None:
    async with transaction(sessions) as session:
        await stream.publish(session, NewEvent(CONVERSATIONS_STREAM, str(call_id), CONVERSATION_ENDED, data))


async def test_conversations_decide_the_final_status_whatever_the_order(
    client: httpx.AsyncClient, sessions: SessionFactory, event_stream: PostgresEventStream
) -> None:
    await report_capacity(sessions)
    meeting, callback = await add_lead(sessions, "+12025550110"), await add_lead(sessions, "+12025550112")
    campaign_id = await start_campaign(client, [meeting, callback], calls_per_second=100)
    placed = {call["lead_id"]: call["id"] for call in await calls_count(sessions, campaign_id, 2)}
    # the meeting's conversation ends after the call; the callback's before it
    await end_call(sessions, event_stream, placed[meeting], CallStatus.COMPLETED, answered_by="human")
    assert (await campaign_lead(sessions, campaign_id, meeting))["status"] == "contacted"
    await conversation_ended(sessions, event_stream, placed[meeting], outcome="meeting_booked")
    at = "2026-03-11T18:00:00+00:00"
    await conversation_ended(
        sessions, event_stream, placed[callback], outcome="callback_requested", callback_at=at
    )
    await end_call(sessions, event_stream, placed[callback], CallStatus.COMPLETED, answered_by="human")

    async def settled() -> bool:
        states = [await campaign_lead(sessions, campaign_id, lead) for lead in (meeting, callback)]
        return [s["status"] for s in states] == ["meeting_scheduled", "callback"]

    await eventually(settled)
    state = await campaign_lead(sessions, campaign_id, callback)
    assert state["next_attempt_at"] == dt.datetime.fromisoformat(at)


async def test_the_campaign_pauses_before_its_abandon_limit(
    client: httpx.AsyncClient, sessions: SessionFactory, event_stream: PostgresEventStream
) -> None:
    await report_capacity(sessions)
    leads = [await add_lead(sessions, f"+1202555010{n}") for n in range(4)]
    campaign_id = await start_campaign(
        client, leads, max_concurrent_calls=1, calls_per_second=100, abandon_rate_limit=0.5
    )
    first = await calls_count(sessions, campaign_id, 1)
    await end_call(sessions, event_stream, first[0]["id"], CallStatus.COMPLETED, answered_by="human")
    second = await calls_count(sessions, campaign_id, 2)
    await end_call(
        sessions, event_stream, second[1]["id"], CallStatus.COMPLETED, answered_by="human", abandoned=True
    )
    # 1 abandoned of 2 answered = 50 %: past 80 % of the 50 % limit
    campaign = await eventually(lambda: _campaign_if(client, campaign_id, "paused"))
    assert "abandon rate 1/2" in campaign["status_reason"]
    await asyncio.sleep(0.5)
    assert len(await campaign_calls(sessions, campaign_id)) == 2
    async with transaction(sessions) as session:
        abandoned = await session.scalar(
            text("SELECT abandoned FROM calls WHERE id = :id"), {"id": second[1]["id"]}
        )
    assert abandoned is True
