"""The dial-time policy through the API: do-not-call (exact, prefix) and calling hours refuse a call, which
is recorded as failed with the rule, and nothing reaches the bridge; exempt prefixes skip calling hours."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest

from dialer.policy import do_not_call
from dialer.settings import Settings
from dialer.testing import (
    FixedClock,
    add_campaign,
    bridge_commands,
    call_events,
    dialer_client,
    dialer_settings,
)
from dialplane.db import SessionFactory, transaction

NEW_YORK_NUMBER = "+12125550123"
BOISE_AND_LOS_ANGELES = "+12085550123"  # area code 208 spans Mountain and Pacific time


def utc(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 7, 1, hour, minute, tzinfo=dt.UTC)  # New York is UTC-4 in July


async def add_entry(sessions: SessionFactory, number: str, **options: Any) -> None:
    async with transaction(sessions) as session:
        await do_not_call.add(session, number, **options)


async def assert_refused(
    client: httpx.AsyncClient, sessions: SessionFactory, body: dict[str, Any], rule: str
) -> dict[str, Any]:
    response = await client.post("/api/v1/calls", json=body)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "call_refused" and problem["rule"] == rule
    call = (await client.get(f"/api/v1/calls/{problem['call_id']}")).json()
    assert call["status"] == "failed" and call["refused_by"] == rule and call["is_completed"]
    assert call["failure_reason"].startswith(f"refused by policy ({rule})")
    timeline = (await client.get(f"/api/v1/calls/{problem['call_id']}/events")).json()["items"]
    assert [(entry["status"], entry["details"]["refused_by"]) for entry in timeline] == [("failed", rule)]
    assert await bridge_commands(sessions, problem["call_id"]) == []
    assert await call_events(sessions, problem["call_id"]) == []
    return call


async def assert_accepted(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    response = await client.post("/api/v1/calls", json=body)
    assert response.status_code == 201, response.text


async def test_an_exact_do_not_call_entry_refuses_the_number(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    await add_entry(sessions, "+12025550101", reason="asked not to be called")
    call = await assert_refused(client, sessions, {"to": "+1 202 555 0101"}, "do_not_call")
    assert "do-not-call list" in call["failure_reason"]
    await assert_accepted(client, {"to": "+12025550100"})


async def test_a_prefix_entry_refuses_every_number_under_it(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    await add_entry(sessions, "+1202555010", match="prefix")
    await assert_refused(client, sessions, {"to": "+12025550104"}, "do_not_call")
    await assert_refused(
        client, sessions, {"ivr": {"context": "c", "extension": "s"}, "to": "+12025550100"}, "do_not_call"
    )
    await assert_accepted(client, {"to": "+12025550110"})


async def test_expired_and_other_campaigns_entries_do_not_refuse_a_single_call(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    await add_entry(sessions, "+12025550100", expires_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    await add_entry(sessions, "+12025550100", match="prefix", campaign_id=await add_campaign(sessions))
    await assert_accepted(client, {"to": "+12025550100"})


async def test_do_not_call_wins_over_an_exempt_prefix(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    await add_entry(sessions, "+12025550100")
    await assert_refused(client, sessions, {"to": "+12025550100"}, "do_not_call")


@pytest.mark.parametrize(
    ("now", "number", "lead_zone", "allowed"),
    [
        (utc(16), NEW_YORK_NUMBER, None, True),  # 12:00 in New York
        (utc(12), NEW_YORK_NUMBER, None, True),  # 08:00 sharp
        (utc(11, 59), NEW_YORK_NUMBER, None, False),  # 07:59
        (utc(0, 59), NEW_YORK_NUMBER, None, True),  # 20:59
        (utc(1), NEW_YORK_NUMBER, None, False),  # 21:00: the window's end is exclusive
        (utc(2), NEW_YORK_NUMBER, "America/Los_Angeles", True),  # 22:00 NY, 19:00 where the lead is
        (utc(16), NEW_YORK_NUMBER, "Asia/Tokyo", False),  # noon in NY, 01:00 where the lead is
        (utc(14, 30), BOISE_AND_LOS_ANGELES, None, False),  # 08:30 Boise but 07:30 Los Angeles
        (utc(15, 30), BOISE_AND_LOS_ANGELES, None, True),  # 09:30 Boise, 08:30 Los Angeles
        (utc(3, 30), BOISE_AND_LOS_ANGELES, None, False),  # 21:30 Boise, 20:30 Los Angeles
        (utc(18), "+18005550123", None, False),  # toll-free: every NANP zone, never all inside
        (utc(18), "+18005550123", "America/Chicago", True),  # unless the lead says where
        (utc(9), "+447911123456", None, True),  # 10:00 in London
        (utc(22), "+447911123456", None, False),  # 23:00 in London
    ],
)
async def test_calling_hours_in_the_called_partys_zones(
    client: httpx.AsyncClient,
    sessions: SessionFactory,
    clock: FixedClock,
    now: dt.datetime,
    number: str,
    lead_zone: str | None,
    allowed: bool,
) -> None:
    clock.now = now
    body: dict[str, Any] = {"to": number}
    if lead_zone:
        body["agent"] = {"lead": {"timezone": lead_zone}}
    if allowed:
        await assert_accepted(client, body)
    else:
        call = await assert_refused(client, sessions, body, "calling_hours")
        assert "outside calling hours" in call["failure_reason"]


async def test_exempt_prefixes_skip_calling_hours_only_for_their_numbers(
    client: httpx.AsyncClient, sessions: SessionFactory, clock: FixedClock
) -> None:
    clock.now = utc(7)  # 03:00 in New York
    await assert_accepted(client, {"to": "+12025550100"})
    await assert_refused(client, sessions, {"to": "+12025550200"}, "calling_hours")


async def test_without_exemption_the_test_carrier_keeps_calling_hours(
    database_url: str, sessions: SessionFactory
) -> None:
    settings: Settings = dialer_settings(database_url, calling_hours_exempt_prefixes=[])
    async with dialer_client(settings, clock=FixedClock(utc(7))) as client:
        await assert_refused(client, sessions, {"to": "+12025550100"}, "calling_hours")
    narrow = dialer_settings(database_url, calling_hours_start=dt.time(13), calling_hours_end=dt.time(14))
    async with dialer_client(narrow, clock=FixedClock(utc(16))) as client:
        await assert_refused(client, sessions, {"to": NEW_YORK_NUMBER}, "calling_hours")
