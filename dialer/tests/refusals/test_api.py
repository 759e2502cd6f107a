"""The dial refusals: a call refused through the API is recorded with its call, campaign dials are recorded
by the runner; operators list them newest first with filters and pages; numbers are shown in full only to
principals that may read the do-not-call list."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest_asyncio
from sqlalchemy import func, select, update

from dialer.policy import do_not_call
from dialer.refusals import repository
from dialer.settings import Settings
from dialer.tables import dial_refusals
from dialer.testing import CALL_SCOPES, FixedClock, dialer_client, principal
from dialplane.db import SessionFactory, transaction
from dialplane.testing.http import SignedPrincipal

REFUSALS = "/api/v1/dial-refusals"
OPERATOR = frozenset({"campaigns:read", "do_not_call:read"})
T0 = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)


@pytest_asyncio.fixture
async def client(
    settings: Settings, sessions: SessionFactory, clock: FixedClock
) -> AsyncIterator[httpx.AsyncClient]:
    async with dialer_client(settings, clock=clock, who=principal(OPERATOR | CALL_SCOPES)) as client:
        yield client


async def refusals(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await client.get(REFUSALS, params=params)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


async def record(sessions: SessionFactory, at: dt.datetime, **values: Any) -> None:
    """A refusal as the campaign runner records it, at ``at``."""
    async with transaction(sessions) as session:
        await repository.record(session, **({"reason": "r", "number": "+12025550100"} | values))
        latest = select(func.max(dial_refusals.c.id)).scalar_subquery()
        await session.execute(update(dial_refusals).where(dial_refusals.c.id == latest).values(at=at))


async def test_a_call_refused_through_the_api_is_recorded_with_its_call(
    client: httpx.AsyncClient, sessions: SessionFactory, clock: FixedClock
) -> None:
    async with transaction(sessions) as session:
        await do_not_call.add(session, "+12025550101")
    listed = await client.post("/api/v1/calls", json={"to": "+1 202 555 0101"})
    clock.now = dt.datetime(2026, 3, 10, 3, 0, tzinfo=dt.UTC)  # 23:00 in New York
    late = await client.post("/api/v1/calls", json={"to": "+12125550123"})
    accepted = await client.post("/api/v1/calls", json={"to": "+12025550102"})

    items = (await refusals(client))["items"]

    assert listed.status_code == late.status_code == 422 and accepted.status_code == 201
    assert [(i["rule"], i["call_id"], i["number"]) for i in items] == [
        ("calling_hours", late.json()["call_id"], "+12125550123"),
        ("do_not_call", listed.json()["call_id"], "+12025550101"),
    ]
    assert items[1]["reason"] == "the number is on the do-not-call list"
    assert items[1]["campaign_id"] is None and items[1]["lead_id"] is None


async def test_numbers_are_masked_without_do_not_call_read(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    await record(sessions, T0, rule="consent", number="+12025550123")
    client.auth = SignedPrincipal(principal({"campaigns:read"}))
    assert [i["number"] for i in (await refusals(client))["items"]] == ["+1********23"]
    client.auth = SignedPrincipal(principal({"admin"}))
    assert [i["number"] for i in (await refusals(client))["items"]] == ["+12025550123"]
    client.auth = SignedPrincipal(principal({"do_not_call:read", "calls:read"}))
    denied = await client.get(REFUSALS)
    assert denied.status_code == 403 and "campaigns:read" in denied.json()["detail"]


async def test_refusals_are_filtered_and_paged_newest_first(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    campaign, other, lead = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    rules = ["schedule", "attempt_cap", "consent", "do_not_call", "schedule"]
    for minute, rule in enumerate(rules):
        owner = campaign if minute < 4 else other
        await record(sessions, T0 + dt.timedelta(minutes=minute), rule=rule, campaign_id=owner, lead_id=lead)
    await record(sessions, T0 + dt.timedelta(minutes=9), rule="calling_hours")

    def rules_of(page: dict[str, Any]) -> list[str]:
        return [item["rule"] for item in page["items"]]

    first = await refusals(client, limit=4)
    second = await refusals(client, limit=4, cursor=first["next_cursor"])
    assert rules_of(first) == ["calling_hours", "schedule", "do_not_call", "consent"]
    assert rules_of(second) == ["attempt_cap", "schedule"] and second["next_cursor"] is None
    assert rules_of(await refusals(client, campaign_id=str(campaign))) == [
        "do_not_call",
        "consent",
        "attempt_cap",
        "schedule",
    ]
    assert len((await refusals(client, lead_id=str(lead)))["items"]) == 5
    assert rules_of(await refusals(client, rule=["schedule", "consent"])) == [
        "schedule",
        "consent",
        "schedule",
    ]
    window = {
        "since": (T0 + dt.timedelta(minutes=1)).isoformat(),
        "until": (T0 + dt.timedelta(minutes=3)).isoformat(),
    }
    assert rules_of(await refusals(client, **window)) == ["consent", "attempt_cap"]


async def test_bad_filters_are_422_naming_them(client: httpx.AsyncClient) -> None:
    for params, field in (
        ({"rule": "weather"}, "query.rule.0"),
        ({"since": "2026-03-02T00:00:00Z", "until": "2026-03-01T00:00:00Z"}, "query.until"),
        ({"cursor": "not-ours"}, "query.cursor"),
        ({"campaign_id": "x"}, "query.campaign_id"),
    ):
        response = await client.get(REFUSALS, params=params)
        assert response.status_code == 422, params
        assert [error["field"] for error in response.json()["errors"]] == [field]
