"""The analytics endpoints, checked figure by figure on one hand-built data set: two live campaigns, a draft,
a direct call and a refused one, calls inside and outside the default 30-day window; then explicit windows
(since inclusive, until exclusive), one campaign, an empty database, and bad filters."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from dialer.settings import Settings
from dialer.testing import FixedClock, add_campaign, dialer_client, principal
from dialplane.db import SessionFactory

from .conftest import NOW, add_call, add_campaign_lead, add_lead, ago, set_campaign_status

ANALYTICS = "/api/v1/analytics"
ENDPOINTS = ["overview", "call-outcomes", "languages", "lead-statuses", "recent-activity", "voices"]


@dataclass(frozen=True)
class DataSet:
    spring: uuid.UUID  # running
    autumn: uuid.UUID  # paused
    calls: dict[str, uuid.UUID]


@pytest.fixture
async def data(sessions: SessionFactory) -> DataSet:
    """Leads L1-L5, campaigns Spring (running) and Autumn (paused), calls K1-K9 (see each line)."""
    spring = await add_campaign(sessions, name="Spring", created_at=ago(days=10))  # running, at the end
    autumn = await add_campaign(sessions, name="Autumn", status="paused", created_at=ago(days=5))
    await add_campaign(sessions, name="Draft", status="draft")
    l1 = await add_lead(sessions, language="en", status="contacted", created_at=ago(days=1))
    l2 = await add_lead(sessions, language="en", status="meeting_scheduled", created_at=ago(days=2))
    l3 = await add_lead(sessions, language="de", status="pending", created_at=ago(days=3))
    l4 = await add_lead(sessions, status="no_answer", created_at=ago(days=5))
    l5 = await add_lead(sessions, language="fr", created_at=ago(days=40))
    for lead, status in [(l1, "contacted"), (l2, "meeting_scheduled"), (l3, "calling")]:
        await add_campaign_lead(sessions, spring, lead, status, created_at=ago(days=1))
    await add_campaign_lead(
        sessions, spring, l4, "no_answer", next_attempt_at=ago(hours=-1), created_at=ago(days=1)
    )
    await add_campaign_lead(sessions, autumn, l5, "exhausted", created_at=ago(days=35))
    await add_campaign_lead(sessions, autumn, l1, "pending", created_at=ago(days=2))

    sales, support = {"agent": {"profile": "sales"}}, {"agent": {"profile": "support"}}
    in_spring, in_autumn = {"campaign_id": spring}, {"campaign_id": autumn}
    calls = {
        "K1": await add_call(
            sessions,
            created_at=ago(days=1),
            lead_id=l1,
            answered_by="human",
            duration_seconds=60,
            outcome="interested",
            agent_audio_delay_seconds=0.5,
            **in_spring,
            **sales,
        ),
        "K2": await add_call(
            sessions,
            created_at=ago(hours=23),
            lead_id=l2,
            answered_by="unknown",
            duration_seconds=120,
            outcome="meeting_booked",
            agent_audio_delay_seconds=1.5,
            to_number="+4930123456",
            **in_spring,
            **sales,
        ),
        "K3": await add_call(  # live: answered a minute ago by a person, not ended
            sessions,
            created_at=ago(minutes=2),
            status="answered",
            lead_id=l3,
            answered_by="human",
            **in_spring,
            **sales,
        ),
        "K4": await add_call(
            sessions, created_at=ago(days=2), status="no_answer", lead_id=l4, **in_spring, **sales
        ),
        "K5": await add_call(
            sessions,
            created_at=ago(days=2, hours=1),
            lead_id=l1,
            answered_by="machine",
            duration_seconds=20,
            outcome="voicemail",
            **in_autumn,
            **support,
        ),
        "K6": await add_call(  # a direct IVR call, no campaign, no lead
            sessions,
            created_at=ago(days=3),
            answered_by="human",
            duration_seconds=30,
            mode="ivr",
            agent=None,
            ivr={"context": "c", "extension": "s", "priority": 1},
        ),
        "K7": await add_call(  # refused by the policy: not a placed call
            sessions, created_at=ago(days=3), status="failed", refused_by="calling_hours"
        ),
        "K8": await add_call(  # outside the default window
            sessions,
            created_at=ago(days=40),
            lead_id=l5,
            answered_by="human",
            duration_seconds=100,
            outcome="meeting_booked",
            **in_autumn,
            **support,
        ),
        "K9": await add_call(
            sessions, created_at=ago(minutes=10), status="queued", lead_id=l1, **in_autumn, **support
        ),
    }
    await set_campaign_status(sessions, spring, "running")
    return DataSet(spring, autumn, calls)


async def get(client: httpx.AsyncClient, endpoint: str, **params: Any) -> dict[str, Any]:
    response = await client.get(f"{ANALYTICS}/{endpoint}", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def iso(moment: Any) -> str:
    return str(moment.isoformat()).replace("+00:00", "Z")


async def test_the_overview_covers_the_last_30_days_by_default(
    client: httpx.AsyncClient, data: DataSet
) -> None:
    overview = await get(client, "overview")

    assert overview["window"] == {"since": iso(ago(days=30)), "until": iso(NOW), "campaign_id": None}
    assert (overview["leads"], overview["calls"], overview["answered_calls"]) == (4, 7, 4)
    assert overview["answer_rate"] == pytest.approx(4 / 7)
    assert (overview["meetings_booked"], overview["conversion_rate"]) == (1, 0.25)
    assert overview["average_duration_seconds"] == pytest.approx((60 + 120 + 30) / 3)
    assert overview["active_calls"] == 2


async def test_the_overview_of_one_campaign(client: httpx.AsyncClient, data: DataSet) -> None:
    overview = await get(client, "overview", campaign_id=str(data.spring))

    assert overview["window"]["campaign_id"] == str(data.spring)
    assert (overview["leads"], overview["calls"], overview["answered_calls"]) == (4, 4, 3)
    assert (overview["meetings_booked"], overview["conversion_rate"]) == (1, pytest.approx(1 / 3))
    assert overview["average_duration_seconds"] == pytest.approx(90)
    assert overview["active_calls"] == 1


async def test_since_is_inclusive_and_until_exclusive(client: httpx.AsyncClient, data: DataSet) -> None:
    until_k1 = await get(client, "overview", since=iso(ago(days=41)), until=iso(ago(days=1)))
    from_k1 = await get(client, "overview", since=iso(ago(days=1)), until=iso(ago(hours=12)))
    only_since = await get(client, "overview", since=iso(ago(days=2)))
    only_until = await get(client, "overview", until=iso(ago(days=1)))

    assert (until_k1["calls"], until_k1["answered_calls"], until_k1["meetings_booked"]) == (
        4,
        2,
        1,
    )  # K4-K6, K8
    assert until_k1["leads"] == 4  # L2-L5; L1 was added at the window's end
    assert until_k1["active_calls"] == 2  # now, whatever the window
    assert (from_k1["calls"], from_k1["leads"]) == (2, 1)  # K1, K2; L1
    assert (only_since["window"]["until"], only_since["calls"]) == (iso(NOW), 5)  # K1-K4 (K4 at since), K9
    assert only_until["window"]["since"] == iso(ago(days=31))
    assert only_until["calls"] == 3  # K4-K6


async def test_call_outcomes_count_placed_calls_by_final_status_and_outcome(
    client: httpx.AsyncClient, data: DataSet
) -> None:
    outcomes = await get(client, "call-outcomes")

    assert outcomes["calls"] == 7
    assert outcomes["by_status"] == {
        "completed": 4,
        "busy": 0,
        "no_answer": 1,
        "failed": 0,  # the refused call is not a placed call
        "canceled": 0,
        "in_progress": 2,
    }
    assert {name: n for name, n in outcomes["by_outcome"].items() if n} == {
        "interested": 1,
        "meeting_booked": 1,
        "voicemail": 1,
    }
    assert len(outcomes["by_outcome"]) == 8


async def test_languages_count_leads_added_and_calls_to_them(
    client: httpx.AsyncClient, data: DataSet
) -> None:
    everything = await get(client, "languages")
    autumn = await get(client, "languages", campaign_id=str(data.autumn))

    assert everything["items"] == [
        {"language": "en", "leads": 2, "calls": 4, "meetings_booked": 1},
        {"language": None, "leads": 1, "calls": 2, "meetings_booked": 0},  # L4; K4 and the direct K6
        {"language": "de", "leads": 1, "calls": 1, "meetings_booked": 0},
    ]
    assert autumn["items"] == [{"language": "en", "leads": 1, "calls": 2, "meetings_booked": 0}]


async def test_lead_statuses_are_the_lead_s_own_or_the_campaign_s(
    client: httpx.AsyncClient, data: DataSet
) -> None:
    everything = await get(client, "lead-statuses")
    spring = await get(client, "lead-statuses", campaign_id=str(data.spring))
    autumn_ever = await get(client, "lead-statuses", campaign_id=str(data.autumn), since=iso(ago(days=365)))

    def nonzero(body: dict[str, Any]) -> dict[str, int]:
        return {status: n for status, n in body["by_status"].items() if n}

    assert everything["total"] == 4 and len(everything["by_status"]) == 11
    assert nonzero(everything) == {"contacted": 1, "meeting_scheduled": 1, "pending": 1, "no_answer": 1}
    assert nonzero(spring) == {"contacted": 1, "meeting_scheduled": 1, "calling": 1, "no_answer": 1}
    assert autumn_ever["total"] == 2 and nonzero(autumn_ever) == {"exhausted": 1, "pending": 1}


async def test_recent_activity_lists_the_newest_placed_calls_with_masked_numbers(
    client: httpx.AsyncClient, data: DataSet
) -> None:
    recent = await get(client, "recent-activity")
    two = await get(client, "recent-activity", limit=2)

    assert [item["call_id"] for item in recent["items"]] == [
        str(data.calls[name]) for name in ("K3", "K9", "K2", "K1", "K4", "K5", "K6")
    ]
    k3, _, k2 = recent["items"][:3]
    assert k3 | {"call_id": None} == {
        "call_id": None,
        "campaign_id": str(data.spring),
        "campaign_name": "Spring",
        "lead_id": k3["lead_id"],
        "to": "+1********01",
        "status": "answered",
        "answered_by": "human",
        "outcome": None,
        "created_at": iso(ago(minutes=2)),
        "answered_at": iso(ago(minutes=1)),
        "ended_at": None,
        "duration_seconds": None,
    }
    assert (k2["to"], k2["outcome"], k2["duration_seconds"]) == ("+4*******56", "meeting_booked", 120)
    assert recent["items"][-1]["campaign_name"] is None  # the direct call
    assert [item["call_id"] for item in two["items"]] == [str(data.calls["K3"]), str(data.calls["K9"])]


async def test_active_campaigns_show_progress_and_live_calls(
    client: httpx.AsyncClient, data: DataSet
) -> None:
    active = await get(client, "active-campaigns")
    spring = await get(client, "active-campaigns", campaign_id=str(data.spring))

    assert [(c["name"], c["status"]) for c in active["items"]] == [
        ("Autumn", "paused"),
        ("Spring", "running"),
    ]
    autumn_now, spring_now = active["items"]
    assert (autumn_now["leads"], autumn_now["final_leads"], autumn_now["progress"]) == (2, 1, 0.5)
    assert autumn_now["live_calls"] == 1
    assert (spring_now["leads"], spring_now["final_leads"], spring_now["progress"]) == (4, 2, 0.5)
    assert spring_now["live_calls"] == 1 and spring_now["max_concurrent_calls"] == 2
    assert spring["items"] == [spring_now]


async def test_voices_compare_agent_profiles(client: httpx.AsyncClient, data: DataSet) -> None:
    voices = await get(client, "voices")

    sales, support = voices["items"]
    assert sales == {
        "profile": "sales",
        "calls": 4,
        "answered_calls": 3,
        "meetings_booked": 1,
        "conversion_rate": pytest.approx(1 / 3),
        "average_duration_seconds": pytest.approx(90),
        "average_agent_audio_delay_seconds": pytest.approx(1.0),
    }
    assert support == {
        "profile": "support",
        "calls": 2,  # K5, K9 (K8 is outside the window)
        "answered_calls": 0,
        "meetings_booked": 0,
        "conversion_rate": 0,
        "average_duration_seconds": None,
        "average_agent_audio_delay_seconds": None,
    }


async def test_an_empty_database_gives_zeros(client: httpx.AsyncClient) -> None:
    overview = await get(client, "overview")
    outcomes = await get(client, "call-outcomes")
    statuses = await get(client, "lead-statuses")

    assert {k: v for k, v in overview.items() if k != "window"} == {
        "leads": 0,
        "calls": 0,
        "answered_calls": 0,
        "answer_rate": 0,
        "meetings_booked": 0,
        "conversion_rate": 0,
        "average_duration_seconds": None,
        "active_calls": 0,
    }
    assert outcomes["calls"] == 0 and set(outcomes["by_status"].values()) == {0}
    assert set(outcomes["by_outcome"].values()) == {0}
    assert statuses["total"] == 0 and set(statuses["by_status"].values()) == {0}
    for endpoint in ("languages", "recent-activity", "active-campaigns", "voices"):
        assert (await get(client, endpoint))["items"] == []


@pytest.mark.parametrize("endpoint", [*ENDPOINTS, "active-campaigns"])
async def test_an_unknown_campaign_is_a_404(client: httpx.AsyncClient, endpoint: str) -> None:
    response = await client.get(f"{ANALYTICS}/{endpoint}", params={"campaign_id": str(uuid.uuid4())})
    assert response.status_code == 404 and response.json()["code"] == "campaign_not_found"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "2026-03-01T00:00:00Z", "until": "2026-03-01T00:00:00Z"}, "query.until"),
        ({"since": "2026-03-02T00:00:00Z", "until": "2026-03-01T00:00:00Z"}, "query.until"),
        ({"since": "2026-04-01T00:00:00Z"}, "query.since"),  # after now, the default until
        ({"since": "yesterday"}, "query.since"),
        ({"campaign_id": "spring"}, "query.campaign_id"),
        ({"campaing_id": str(uuid.uuid4())}, "query.campaing_id"),
    ],
)
async def test_bad_filters_are_a_422_naming_the_field(
    client: httpx.AsyncClient, params: dict[str, str], field: str
) -> None:
    response = await client.get(f"{ANALYTICS}/overview", params=params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [error["field"] for error in response.json()["errors"]] == [field]


@pytest.mark.parametrize("limit", ["0", "101", "many"])
async def test_recent_activity_takes_at_most_100(client: httpx.AsyncClient, limit: str) -> None:
    response = await client.get(f"{ANALYTICS}/recent-activity", params={"limit": limit})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "query.limit"


async def test_the_analytics_need_analytics_read(settings: Settings, sessions: SessionFactory) -> None:
    who = principal({"campaigns:read", "calls:read"})
    async with dialer_client(settings, clock=FixedClock(), who=who) as client:
        answers = [
            await client.get(f"{ANALYTICS}/{endpoint}") for endpoint in [*ENDPOINTS, "active-campaigns"]
        ]
    assert {answer.status_code for answer in answers} == {403}
