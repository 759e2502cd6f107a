"""A campaign's report, checked figure by figure on hand-built data: leads by status and progress (callback
and no_answer count as done only when no attempt is planned), attempts without refusals, person-answered
calls, abandons and the 30-day abandon rate against the limit, meetings, refusals by rule, and the agent's
answer delay."""

from __future__ import annotations

import uuid

import httpx
import pytest

from dialer.analytics.report_repository import abandon_rate
from dialer.settings import Settings
from dialer.testing import FixedClock, add_campaign, dialer_client, principal
from dialplane.db import SessionFactory, transaction

from .conftest import NOW, add_call, add_campaign_lead, add_lead, add_refusal, ago


def report_path(campaign_id: uuid.UUID | str) -> str:
    return f"/api/v1/campaigns/{campaign_id}/report"


async def add_leads(sessions: SessionFactory, campaign_id: uuid.UUID) -> None:
    """Ten leads, five of them final."""
    later = ago(hours=-2)
    for status, next_attempt_at in [
        ("pending", None),
        ("pending", None),
        ("calling", None),
        ("contacted", None),
        ("meeting_scheduled", None),
        ("not_interested", None),
        ("callback", later),  # will be called back: not final
        ("callback", None),
        ("no_answer", later),
        ("exhausted", None),
    ]:
        lead = await add_lead(sessions)
        await add_campaign_lead(sessions, campaign_id, lead, status, next_attempt_at=next_attempt_at)


async def add_calls(sessions: SessionFactory, campaign_id: uuid.UUID) -> None:
    mine = {"campaign_id": campaign_id}
    await add_call(
        sessions,
        created_at=ago(days=1),
        answered_by="human",
        duration_seconds=60,
        outcome="meeting_booked",
        agent_audio_delay_seconds=0.4,
        **mine,
    )
    await add_call(sessions, created_at=ago(days=2), answered_by="machine", duration_seconds=15, **mine)
    await add_call(sessions, created_at=ago(days=3), answered_by="unknown", abandoned=True, **mine)
    await add_call(sessions, created_at=ago(days=3), status="no_answer", **mine)
    old = ago(days=40)
    await add_call(
        sessions, created_at=old, answered_by="human", abandoned=True, agent_audio_delay_seconds=0.8, **mine
    )
    await add_call(sessions, created_at=ago(days=1), status="failed", refused_by="do_not_call", **mine)


async def test_the_report_counts_leads_calls_abandons_and_refusals(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    campaign = await add_campaign(
        sessions, name="Spring", status="paused", status_reason="abandon rate", abandon_rate_limit=0.05
    )
    other = await add_campaign(sessions, name="Other")
    await add_leads(sessions, campaign)
    await add_calls(sessions, campaign)
    await add_call(sessions, created_at=ago(days=1), answered_by="human", abandoned=True, campaign_id=other)
    for rule in ("do_not_call", "do_not_call", "calling_hours"):
        await add_refusal(sessions, campaign, rule)
    await add_refusal(sessions, other, "consent")

    response = await client.get(report_path(campaign))

    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["campaign_id"], report["name"]) == (str(campaign), "Spring")
    assert (report["status"], report["status_reason"]) == ("paused", "abandon rate")
    assert report["leads"] == {
        "total": 10,
        "by_status": {
            "pending": 2,
            "queued": 0,
            "calling": 1,
            "contacted": 1,
            "meeting_scheduled": 1,
            "not_interested": 1,
            "callback": 2,
            "no_answer": 1,
            "do_not_call": 0,
            "failed": 0,
            "exhausted": 1,
        },
        "final": 5,
        "progress": 0.5,
    }
    calls = report["calls"]
    assert (calls["attempts"], calls["answered"], calls["answer_rate"]) == (5, 3, 0.6)
    assert (calls["abandoned"], calls["meetings_booked"]) == (2, 1)
    assert calls["average_agent_audio_delay_seconds"] == pytest.approx(0.6)
    assert report["abandon_rate"] == {
        "window_days": 30,
        "abandoned": 1,
        "answered": 2,
        "rate": 0.5,
        "limit": 0.05,
    }
    assert report["refusals"] == {
        "total": 3,
        "by_rule": {"do_not_call": 2, "calling_hours": 1, "schedule": 0, "consent": 0, "attempt_cap": 0},
    }


async def test_a_new_campaign_reports_zeros_without_dividing_by_zero(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    campaign = await add_campaign(sessions)

    report = (await client.get(report_path(campaign))).json()

    assert report["status"] == "draft" and report["generated_at"] == NOW.isoformat().replace("+00:00", "Z")
    assert report["leads"]["total"] == 0 and report["leads"]["progress"] == 0
    assert set(report["leads"]["by_status"].values()) == {0}
    assert report["calls"] == {
        "attempts": 0,
        "answered": 0,
        "answer_rate": 0,
        "abandoned": 0,
        "meetings_booked": 0,
        "average_agent_audio_delay_seconds": None,
    }
    assert report["abandon_rate"]["rate"] == 0 and report["abandon_rate"]["limit"] == 0.03
    assert report["refusals"]["total"] == 0


async def test_an_unknown_campaign_is_a_404_and_a_bad_id_a_422(client: httpx.AsyncClient) -> None:
    unknown = await client.get(report_path(uuid.uuid4()))
    malformed = await client.get(report_path("not-a-uuid"))

    assert unknown.status_code == 404 and unknown.json()["code"] == "campaign_not_found"
    assert unknown.headers["content-type"] == "application/problem+json"
    assert malformed.status_code == 422 and malformed.json()["errors"][0]["field"] == "path.campaign_id"


async def test_the_abandon_rate_counts_calls_placed_in_the_30_days_before_now(
    sessions: SessionFactory,
) -> None:
    campaign = await add_campaign(sessions)
    for placed_at, abandoned in [
        (ago(days=30), True),  # the window's open end: out
        (ago(days=30, seconds=-1), True),  # a second inside
        (ago(days=1), False),
        (NOW, False),
    ]:
        await add_call(
            sessions,
            created_at=placed_at,
            answered_by="human",
            abandoned=abandoned,
            campaign_id=campaign,
        )
    await add_call(
        sessions, created_at=ago(days=2), answered_by="machine", abandoned=True, campaign_id=campaign
    )

    async with transaction(sessions) as session:
        assert await abandon_rate(session, campaign, NOW) == (1, 3)
        assert await abandon_rate(session, uuid.uuid4(), NOW) == (0, 0)


async def test_the_report_needs_campaigns_read(settings: Settings, sessions: SessionFactory) -> None:
    campaign = await add_campaign(sessions)
    who = principal({"analytics:read", "calls:read"})
    async with dialer_client(settings, clock=FixedClock(), who=who) as client:
        response = await client.get(report_path(campaign))
    assert response.status_code == 403
