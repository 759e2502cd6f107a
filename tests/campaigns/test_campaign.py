"""A campaign from a CSV file to its report, over the real Asterisk with the offline AI agent: 30 leads on
the test carrier's numbers. Every lead that may be called reaches a final status; busy and unanswered numbers
are retried per policy and then exhausted; the person who wants a meeting gets one; a listed number and a
lead outside its calling hours are never dialed (no call, so no channel, ever exists for them) and their
refusals are listed."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

import pytest
from e2e import Stack

pytestmark = [pytest.mark.asterisk, pytest.mark.timeout(600)]

SCOPES = [
    "leads:read",
    "leads:write",
    "campaigns:read",
    "campaigns:write",
    "calls:read",
    "do_not_call:write",
    "analytics:read",
]
ONE_SECOND_RETRIES = {
    result: {"delay_seconds": 1, "max_attempts": 2} for result in ("busy", "no_answer", "failed", "abandoned")
} | {"voicemail": {"delay_seconds": 1, "max_attempts": 1}}
EXPECTED = {
    "+12025550100": "contacted",  # answers and says nothing
    "+12025550101": "exhausted",  # busy, twice
    "+12025550102": "exhausted",  # never answers, twice
    "+12025550103": "exhausted",  # fails, twice
    "+12025550105": "exhausted",  # a machine: the agent leaves a voicemail; one attempt allowed
    "+12025550110": "meeting_scheduled",
    "+12025550111": "do_not_call",  # asks not to be called again
    "+12025550114": "do_not_call",  # presses 9
} | {f"+120255501{n}": "exhausted" for n in range(20, 40)}  # unallocated numbers: failed, twice
LISTED = "+12025550150"
OUTSIDE_HOURS = "+12025550300"  # not the test carrier's: calling hours apply


def night_zone() -> str:
    """A zone where it is between 01:00 and 05:00 now (the calling hours, 08:00 to 21:00, are hours away)."""
    now = dt.datetime.now(dt.UTC)
    for zone in sorted(available_timezones()):
        if "/" in zone and 1 <= now.astimezone(ZoneInfo(zone)).hour < 5:
            return zone
    raise AssertionError("no zone at night")  # there is always one: offsets cover every hour


def leads_csv() -> bytes:
    rows = ["phone,name,email,timezone,language,consent"]
    for number in EXPECTED:
        name, email = ("Jane Doe", "jane.doe@example.com") if number.endswith("0110") else ("Lead", "")
        rows.append(f"{number},{name},{email},America/New_York,en,yes")
    rows.append(f"{LISTED},Listed Lead,,America/New_York,en,yes")
    rows.append(f"{OUTSIDE_HOURS},Night Owl,,{night_zone()},en,yes")
    return ("\n".join(rows) + "\n").encode()


async def get(stack: Stack, auth: dict[str, str], path: str, **params: Any) -> Any:
    answer = await stack.gateway.get(path, headers=auth, params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def post(stack: Stack, auth: dict[str, str], path: str, body: Any = None, status: int = 200) -> Any:
    answer = await stack.gateway.post(path, headers=auth, json=body)
    assert answer.status_code == status, answer.text
    return answer.json()


async def import_leads(stack: Stack, auth: dict[str, str], campaign_id: str) -> None:
    files = {"file": ("leads.csv", leads_csv(), "text/csv")}
    answer = await stack.gateway.post(
        "/api/v1/leads/import", headers=auth, files=files, data={"campaign_id": campaign_id}
    )
    assert answer.status_code == 202, answer.text
    job_path = answer.headers["location"]
    async with asyncio.timeout(60):
        while (job := await get(stack, auth, job_path))["status"] not in ("completed", "failed"):
            await asyncio.sleep(0.2)
    assert job["status"] == "completed" and job["rows_failed"] == 0, job
    assert job["rows_created"] == 30


async def campaign_leads(stack: Stack, auth: dict[str, str], campaign_id: str) -> dict[str, dict[str, Any]]:
    page = await get(stack, auth, f"/api/v1/campaigns/{campaign_id}/leads", limit=100)
    return {lead["phone"]: lead for lead in page["items"]}


async def test_a_campaign_from_csv_to_report(ai_stack: Stack) -> None:
    auth = await ai_stack.token("campaigner", SCOPES)
    await post(ai_stack, auth, "/api/v1/do-not-call", {"number": LISTED, "reason": "asked"}, status=201)
    campaign = await post(
        ai_stack,
        auth,
        "/api/v1/campaigns",
        {
            "name": "spring",
            "schedule": {"start_time": "00:00", "end_time": "23:59:59"},
            "max_concurrent_calls": 3,  # the ai-agent holds 4 conversations at once
            "calls_per_second": 5,
            "retry_policy": ONE_SECOND_RETRIES,
            "ring_timeout_seconds": 15,
            "machine_detection": False,
        },
        status=201,
    )
    campaign_id = campaign["id"]
    await import_leads(ai_stack, auth, campaign_id)
    await post(ai_stack, auth, f"/api/v1/campaigns/{campaign_id}/start")

    async with asyncio.timeout(480):
        while True:
            leads = await campaign_leads(ai_stack, auth, campaign_id)
            if all(leads[number]["status"] == status for number, status in EXPECTED.items()):
                break
            await asyncio.sleep(1)
    assert leads["+12025550101"]["attempts"] == 2 and leads["+12025550101"]["last_result"] == "busy"
    assert leads["+12025550102"]["attempts"] == 2 and leads["+12025550102"]["last_result"] == "no_answer"
    assert leads["+12025550110"]["last_result"] == "meeting_booked"
    assert leads[LISTED]["status"] == "do_not_call" and leads[LISTED]["attempts"] == 0
    night = leads[OUTSIDE_HOURS]
    assert night["status"] == "pending" and night["attempts"] == 0 and night["next_attempt_at"]

    calls = await get(ai_stack, auth, "/api/v1/calls", limit=100)
    dialed = {call["to"] for call in calls["items"] if call["campaign_id"] == campaign_id}
    assert dialed == set(EXPECTED)  # never the listed number, never the lead outside its hours
    refusals = await get(ai_stack, auth, "/api/v1/dial-refusals", campaign_id=campaign_id)
    rules = {(item["lead_id"], item["rule"]) for item in refusals["items"]}
    assert (leads[LISTED]["lead_id"], "do_not_call") in rules
    assert (night["lead_id"], "calling_hours") in rules

    report = await get(ai_stack, auth, f"/api/v1/campaigns/{campaign_id}/report")
    assert report["leads"]["total"] == 30 and report["calls"]["meetings_booked"] == 1
    assert report["leads"]["by_status"]["exhausted"] == 24
    assert report["calls"]["attempts"] == sum(lead["attempts"] for lead in leads.values())
