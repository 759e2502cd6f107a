"""The campaigns API: a campaign is created as a draft with safe defaults and its leads, changes while it
may, moves through start / pause / resume / stop, takes leads and callbacks, and says clearly what cannot be
done."""

from __future__ import annotations

import uuid

import httpx

from dialer.campaigns.testing import add_lead
from dialer.settings import Settings
from dialer.testing import FixedClock, dialer_client, principal
from dialplane.db import SessionFactory


async def create(client: httpx.AsyncClient, **body: object) -> dict[str, object]:
    response = await client.post("/api/v1/campaigns", json={"name": "spring", **body})
    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"/api/v1/campaigns/{response.json()['id']}"
    created: dict[str, object] = response.json()
    return created


async def test_a_new_campaign_is_a_draft_with_safe_defaults(client: httpx.AsyncClient) -> None:
    campaign = await create(client)
    assert campaign["status"] == "draft"
    assert campaign["schedule"] == {
        "start_date": None,
        "end_date": None,
        "weekdays": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        "start_time": "08:00:00",
        "end_time": "21:00:00",
    }
    assert campaign["attempt_cap"] == {"max_attempts": 7, "window_days": 7.0}
    assert campaign["abandon_rate_limit"] == 0.03
    assert campaign["retry_policy"]["busy"] == {"delay_seconds": 900, "max_attempts": 3}  # type: ignore[index]
    fetched = (await client.get(f"/api/v1/campaigns/{campaign['id']}")).json()
    assert fetched == campaign


async def test_leads_join_by_id_and_by_filter_once(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    first = await add_lead(sessions, "+12025550100", language="en")
    await add_lead(sessions, "+12025550101", language="es")
    await add_lead(sessions, "+12025550102", language="es")
    campaign = await create(client, leads={"lead_ids": [str(first)]})
    added = await client.post(f"/api/v1/campaigns/{campaign['id']}/leads", json={"language": "es"})
    assert added.json() == {"added": 2}
    again = await client.post(f"/api/v1/campaigns/{campaign['id']}/leads", json={"all_leads": True})
    assert again.json() == {"added": 0}
    listed = (await client.get(f"/api/v1/campaigns/{campaign['id']}/leads", params={"limit": 2})).json()
    assert len(listed["items"]) == 2 and listed["next_cursor"]
    rest = await client.get(
        f"/api/v1/campaigns/{campaign['id']}/leads", params={"cursor": listed["next_cursor"]}
    )
    phones = {item["phone"] for item in listed["items"] + rest.json()["items"]}
    assert phones == {"+12025550100", "+12025550101", "+12025550102"}
    assert all(item["status"] == "pending" for item in rest.json()["items"])


async def test_an_unknown_lead_id_is_named(client: httpx.AsyncClient) -> None:
    missing = uuid.uuid4()
    response = await client.post(
        "/api/v1/campaigns", json={"name": "x", "leads": {"lead_ids": [str(missing)]}}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "leads.lead_ids"
    assert str(missing) in response.json()["errors"][0]["message"]


async def test_the_lifecycle_and_its_conflicts(client: httpx.AsyncClient) -> None:
    campaign = await create(client)
    path = f"/api/v1/campaigns/{campaign['id']}"
    assert (await client.post(f"{path}/pause")).status_code == 409
    assert (await client.post(f"{path}/start")).json()["status"] == "running"
    paused = (await client.post(f"{path}/pause", json={"reason": "lunch"})).json()
    assert paused["status"] == "paused" and paused["status_reason"] == "lunch"
    assert (await client.delete(path)).status_code == 409
    assert (await client.post(f"{path}/resume")).json()["status"] == "running"
    stopped = (await client.post(f"{path}/stop")).json()
    assert stopped["status"] == "stopped" and stopped["ended_at"]
    conflict = await client.post(f"{path}/resume")
    assert conflict.status_code == 409 and conflict.json()["code"] == "campaign_state"
    patched = await client.patch(path, json={"max_concurrent_calls": 3})
    assert patched.status_code == 409 and patched.json()["code"] == "campaign_ended"
    assert (await client.delete(path)).status_code == 204
    assert (await client.get(path)).json()["code"] == "campaign_not_found"


async def test_settings_change_while_running(client: httpx.AsyncClient) -> None:
    campaign = await create(client)
    path = f"/api/v1/campaigns/{campaign['id']}"
    await client.post(f"{path}/start")
    body = {"calls_per_second": 0.5, "attempt_cap": {"max_attempts": 3, "window_days": 1}}
    changed = (await client.patch(path, json=body)).json()
    assert changed["calls_per_second"] == 0.5 and changed["attempt_cap"] == {
        "max_attempts": 3,
        "window_days": 1.0,
    }
    assert changed["status"] == "running"


async def test_bad_settings_are_named(client: httpx.AsyncClient) -> None:
    cases = [
        ({"schedule": {"start_time": "21:00", "end_time": "08:00"}}, "schedule"),
        ({"schedule": {"weekdays": ["funday"]}}, "schedule.weekdays.0"),
        ({"calls_per_second": 0}, "calls_per_second"),
        ({"caller_id": "12ab"}, "caller_id"),
        ({"abandon_rate_limit": 2}, "abandon_rate_limit"),
        (
            {"retry_policy": {"busy": {"delay_seconds": -1, "max_attempts": 1}}},
            "retry_policy.busy.delay_seconds",
        ),
    ]
    for body, field in cases:
        response = await client.post("/api/v1/campaigns", json={"name": "x", **body})
        assert response.status_code == 422, (body, response.text)
        assert any(error["field"] == field for error in response.json()["errors"]), (field, response.json())


async def test_a_callback_is_set_on_a_campaign_lead(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    lead = await add_lead(sessions, "+12025550100")
    campaign = await create(client, leads={"lead_ids": [str(lead)]})
    path = f"/api/v1/campaigns/{campaign['id']}/leads/{lead}/callback"
    response = await client.post(path, json={"at": "2026-03-11T15:00:00Z"})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "callback"
    assert response.json()["next_attempt_at"] == "2026-03-11T15:00:00Z"
    missing = await client.post(
        f"/api/v1/campaigns/{campaign['id']}/leads/{uuid.uuid4()}/callback", json=response.json() | {}
    )
    assert missing.status_code == 422  # the body is not a callback request
    unknown = await client.post(
        f"/api/v1/campaigns/{campaign['id']}/leads/{uuid.uuid4()}/callback",
        json={"at": "2026-03-11T15:00:00Z"},
    )
    assert unknown.status_code == 404 and unknown.json()["code"] == "campaign_lead_not_found"


async def test_campaigns_need_their_scopes(settings: Settings, sessions: SessionFactory) -> None:
    async with dialer_client(settings, clock=FixedClock(), who=principal({"campaigns:read"})) as reader:
        assert (await reader.get("/api/v1/campaigns")).status_code == 200
        refused = await reader.post("/api/v1/campaigns", json={"name": "x"})
        assert refused.status_code == 403 and "campaigns:write" in refused.json()["detail"]
