"""A small dialer world written with SQL, as the dialer writes it: campaigns, leads, calls with their
timeline, their events on the ``calls`` stream and their webhook deliveries, do-not-call entries."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import text

from dialplane.calls import CallStatus
from dialplane.db import SessionFactory, transaction

T0 = dt.datetime(2026, 11, 2, 10, 0, tzinfo=dt.UTC)
ANSWERED_CALL = ("queued", "dialing", "ringing", "answered", "completed")
BUSY_CALL = ("queued", "dialing", "busy")
NO_ANSWER_CALL = ("queued", "dialing", "ringing", "no_answer")
POLICY = {
    "busy": {"delay_seconds": 900, "max_attempts": 3},
    "no_answer": {"delay_seconds": 3600, "max_attempts": 3},
    "failed": {"delay_seconds": 1800, "max_attempts": 2},
    "voicemail": {"delay_seconds": 86400, "max_attempts": 2},
    "abandoned": {"delay_seconds": 259200, "max_attempts": 2},
}


def minutes(count: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=count)


class World:
    """Writes rows; each method is one transaction."""

    ANSWERED = ANSWERED_CALL
    BUSY = BUSY_CALL
    NO_ANSWER = NO_ANSWER_CALL
    minutes = staticmethod(minutes)

    def __init__(self, sessions: SessionFactory) -> None:
        self.sessions = sessions

    async def sql(self, statement: str, **params: Any) -> None:
        async with transaction(self.sessions) as session:
            await session.execute(text(statement), params)

    async def campaign(
        self, status: str = "completed", attempt_cap: int = 7, window_days: int = 7
    ) -> uuid.UUID:
        campaign_id = uuid.uuid4()
        await self.sql(
            "INSERT INTO campaigns (id, name, status, schedule, max_concurrent_calls, calls_per_second,"
            " retry_policy, attempt_cap, attempt_window_seconds, abandon_rate_limit, created_by)"
            " VALUES (:id, 'audit', :status, '{}', 5, 1, CAST(:policy AS jsonb), :cap, :window, 0.03,"
            " 'test')",
            id=campaign_id,
            status=status,
            policy=json.dumps(POLICY),
            cap=attempt_cap,
            window=window_days * 86400,
        )
        return campaign_id

    async def lead(self, phone: str) -> uuid.UUID:
        lead_id = uuid.uuid4()
        await self.sql(
            "INSERT INTO leads (id, phone, created_by) VALUES (:id, :phone, 'test')", id=lead_id, phone=phone
        )
        return lead_id

    async def call(
        self,
        phone: str,
        statuses: Sequence[str] = ANSWERED_CALL,
        *,
        at: dt.datetime = T0,
        lasting: dt.timedelta = dt.timedelta(minutes=2),
        campaign: uuid.UUID | None = None,
        lead: uuid.UUID | None = None,
        outcome: str | None = None,
        callback_events: Sequence[str] = (),
        events: Sequence[str] | None = None,
        delivery: str = "delivered",
    ) -> uuid.UUID:
        """A call that went through ``statuses`` from ``at``; its events are ``events`` (default: one per
        status, each naming the one before); a delivery in state ``delivery`` per status in
        ``callback_events``."""
        call_id = uuid.uuid4()
        final = CallStatus(statuses[-1])
        async with transaction(self.sessions) as session:
            await session.execute(
                text(
                    "INSERT INTO calls (id, created_by, to_number, mode, ivr, status, ring_timeout_seconds,"
                    " status_callback, status_callback_events, campaign_id, lead_id, outcome, created_at,"
                    " ended_at) VALUES (:id, 'test', :phone, 'ivr', '{}', :status, 30, :callback, :events,"
                    " :campaign, :lead, :outcome, :at, :ended)"
                ),
                {
                    "id": call_id,
                    "phone": phone,
                    "status": final.value,
                    "callback": "https://hooks.example.com/calls?token=x" if callback_events else None,
                    "events": list(callback_events),
                    "campaign": campaign,
                    "lead": lead,
                    "outcome": outcome,
                    "at": at,
                    "ended": at + lasting if final.is_terminal else None,
                },
            )
            for status in statuses:
                await session.execute(
                    text("INSERT INTO call_events (call_id, status, at) VALUES (:id, :status, :at)"),
                    {"id": call_id, "status": status, "at": at},
                )
            await self._events(session, call_id, events if events is not None else statuses)
            for status in set(statuses) & set(callback_events):
                await session.execute(
                    text(
                        "INSERT INTO webhook_deliveries (call_id, url, event_type, payload, status, attempts,"
                        " last_status_code) VALUES (:id, 'https://hooks.example.com/calls?token=x',"
                        " :type, '{}', :state, 3, 500)"
                    ),
                    {"id": str(call_id), "type": f"call.{status}", "state": delivery},
                )
        return call_id

    async def _events(self, session: Any, call_id: uuid.UUID, statuses: Sequence[str]) -> None:
        order = list(ANSWERED_CALL)
        for status in statuses:
            before = _before(status, statuses, order)
            data = {"call_id": str(call_id), "status": status, "previous_status": before}
            await session.execute(
                text(
                    "INSERT INTO events (stream, key, type, data)"
                    " VALUES ('calls', :key, :type, CAST(:data AS jsonb))"
                ),
                {"key": str(call_id), "type": f"call.{status}", "data": json.dumps(data)},
            )

    async def campaign_lead(
        self,
        campaign: uuid.UUID,
        lead: uuid.UUID,
        status: str,
        *,
        attempts: int,
        call: uuid.UUID | None,
        last_result: str | None,
        next_attempt_at: dt.datetime | None = None,
    ) -> None:
        await self.sql(
            "INSERT INTO campaign_leads (campaign_id, lead_id, status, attempts, call_id, last_result,"
            " next_attempt_at) VALUES (:campaign, :lead, :status, :attempts, :call, :result, :due)",
            campaign=campaign,
            lead=lead,
            status=status,
            attempts=attempts,
            call=call,
            result=last_result,
            due=next_attempt_at,
        )

    async def do_not_call(self, number: str, at: dt.datetime, match: str = "exact") -> None:
        await self.sql(
            "INSERT INTO do_not_call (number, match, created_at) VALUES (:number, :match, :at)",
            number=number,
            match=match,
            at=at,
        )

    async def consumer_caught_up(self) -> None:
        """The dialer's consumer group has handled every event written so far."""
        await self.sql(
            "INSERT INTO event_consumer_groups (group_name, tx_id, event_id)"
            " SELECT 'dialer-calls', tx_id, id FROM events ORDER BY tx_id DESC, id DESC LIMIT 1"
            " ON CONFLICT (group_name) DO UPDATE SET tx_id = EXCLUDED.tx_id, event_id = EXCLUDED.event_id"
        )


def _before(status: str, statuses: Sequence[str], order: list[str]) -> str | None:
    """The status the bridge would name before ``status``: the one before it in the normal order of an
    answered call, or in ``statuses`` for an unanswered end."""
    if status == "queued":
        return None
    if status in order:
        return order[order.index(status) - 1]
    return statuses[list(statuses).index(status) - 1]


@pytest.fixture
def world(sessions: SessionFactory) -> World:
    return World(sessions)


@pytest.fixture
async def clean_world(world: World) -> dict[str, uuid.UUID]:
    """A completed campaign whose leads all ended consistently, an API call with its webhooks delivered,
    and a call refused because its number is listed."""
    campaign = await world.campaign()
    booked = await world.lead("+442071230001")
    call = await world.call("+442071230001", campaign=campaign, lead=booked, outcome="meeting_booked")
    await world.campaign_lead(
        campaign, booked, "meeting_scheduled", attempts=1, call=call, last_result="meeting_booked"
    )
    busy = await world.lead("+442071230002")
    calls = [
        await world.call("+442071230002", BUSY_CALL, at=minutes(20 * n), campaign=campaign, lead=busy)
        for n in range(3)
    ]
    await world.campaign_lead(campaign, busy, "exhausted", attempts=3, call=calls[-1], last_result="busy")
    reached = await world.lead("+442071230003")
    await world.call("+442071230003", NO_ANSWER_CALL, campaign=campaign, lead=reached)
    second = await world.call("+442071230003", at=minutes(90), campaign=campaign, lead=reached)
    await world.campaign_lead(campaign, reached, "contacted", attempts=2, call=second, last_result="answered")
    await world.call("+33612345678", callback_events=ANSWERED_CALL, at=minutes(5))
    await world.do_not_call("+33699999999", T0)
    await world.sql(
        "INSERT INTO calls (id, created_by, to_number, mode, ivr, status, ring_timeout_seconds, refused_by,"
        " created_at, ended_at)"
        " VALUES (:id, 'test', '+33699999999', 'ivr', '{}', 'failed', 30, 'do_not_call', :at, :at)",
        id=uuid.uuid4(),
        at=minutes(10),
    )
    await world.consumer_caught_up()
    return {"campaign": campaign, "busy_lead": busy}
