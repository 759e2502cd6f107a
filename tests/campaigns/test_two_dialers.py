"""Two dialer processes share one campaign over the real bridge and Asterisk; one is killed with SIGKILL
while it dials. The other finishes the campaign: every lead reaches a final status, no lead is ever in two
calls at once, and no lead is called more often than its retry policy allows."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import signal
import sys
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, select, text, update

from ari_bridge.testing import running_bridge
from dialer.campaigns.testing import CAMPAIGN_SCOPES, add_lead
from dialer.tables import calls, campaign_leads, capacity_reports
from dialer.testing import TEST_CARRIER_EXEMPTION, TEST_WEBHOOK_SECRET, principal
from dialplane.db import SessionFactory, transaction
from dialplane.events import PostgresEventStream
from dialplane.testing.asterisk import AsteriskInfo
from dialplane.testing.database import TEST_INTERNAL_TOKEN
from dialplane.testing.http import SignedPrincipal, free_port

pytestmark = [pytest.mark.asterisk, pytest.mark.timeout(300)]

MAX_ATTEMPTS = 3
RETRIES = {"delay_seconds": 1, "max_attempts": MAX_ATTEMPTS}
# busy, failed (cause 34) and unallocated numbers: quick calls that need no agent
NUMBERS = ["+12025550101", "+12025550103"] + [f"+120255501{n}" for n in range(40, 58)]


@contextlib.asynccontextmanager
async def dialer_process(database_url: str) -> AsyncIterator[tuple[asyncio.subprocess.Process, str]]:
    port = free_port()
    env = os.environ | {
        "DIALER_DATABASE_URL": database_url,
        "DIALER_ENVIRONMENT": "test",
        "DIALER_INTERNAL_TOKEN": TEST_INTERNAL_TOKEN,
        "DIALER_PORT": str(port),
        "DIALER_CALLING_HOURS_EXEMPT_PREFIXES": TEST_CARRIER_EXEMPTION,
        "DIALER_LOG_LEVEL": "WARNING",
        "DIALER_WEBHOOK_SIGNING_SECRET": TEST_WEBHOOK_SECRET,
    }
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "dialer", env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        async with asyncio.timeout(30), httpx.AsyncClient() as client:
            while True:
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get(f"{url}/ready")).status_code == 200:
                        break
                await asyncio.sleep(0.2)
        yield process, url
    finally:
        if process.returncode is None:
            process.terminate()
            await process.wait()


@contextlib.asynccontextmanager
async def agents_reporting(sessions: SessionFactory) -> AsyncIterator[None]:
    """Free agent capacity, reported as a live ai-agent would (none of these calls is answered)."""

    async def report() -> None:
        while True:
            async with transaction(sessions) as session:
                await session.execute(
                    update(capacity_reports)
                    .where(capacity_reports.c.resource == "agent")
                    .values(seen_at=text("clock_timestamp()"))
                )
            await asyncio.sleep(1)

    async with transaction(sessions) as session:
        await session.execute(
            insert(capacity_reports).values(resource="agent", instance="test", capacity=50, in_use=0)
        )
    task = asyncio.create_task(report())
    try:
        yield
    finally:
        task.cancel()


async def leads_of(sessions: SessionFactory, campaign_id: uuid.UUID) -> list[dict[str, Any]]:
    async with transaction(sessions) as session:
        query = select(campaign_leads).where(campaign_leads.c.campaign_id == campaign_id)
        return [dict(row._mapping) for row in (await session.execute(query)).all()]


async def calls_of(sessions: SessionFactory, campaign_id: uuid.UUID) -> list[dict[str, Any]]:
    async with transaction(sessions) as session:
        query = select(calls).where(calls.c.campaign_id == campaign_id).order_by(calls.c.created_at)
        return [dict(row._mapping) for row in (await session.execute(query)).all()]


async def test_a_dialer_killed_mid_campaign_loses_no_lead_and_dials_none_twice(
    database_url: str, asterisk: AsteriskInfo, sessions: SessionFactory, event_stream: PostgresEventStream
) -> None:
    lead_ids = [str(await add_lead(sessions, number)) for number in NUMBERS]
    body = {
        "name": "shared",
        "leads": {"lead_ids": lead_ids},
        "schedule": {"start_time": "00:00", "end_time": "23:59:59"},
        "max_concurrent_calls": 4,
        "calls_per_second": 8,
        "retry_policy": {"busy": RETRIES, "failed": RETRIES, "no_answer": RETRIES},
        "machine_detection": False,
    }
    async with (
        running_bridge(database_url, asterisk, sessions, event_stream),
        agents_reporting(sessions),
        dialer_process(database_url) as (victim, victim_url),
        dialer_process(database_url) as (_, survivor_url),
        httpx.AsyncClient(auth=SignedPrincipal(principal(CAMPAIGN_SCOPES))) as client,
    ):
        created = await client.post(f"{victim_url}/api/v1/campaigns", json=body)
        assert created.status_code == 201, created.text
        campaign_id = uuid.UUID(created.json()["id"])
        await client.post(f"{victim_url}/api/v1/campaigns/{campaign_id}/start")
        async with asyncio.timeout(60):
            while len(await calls_of(sessions, campaign_id)) < 12:
                await asyncio.sleep(0.05)
        victim.send_signal(signal.SIGKILL)
        await victim.wait()

        async with asyncio.timeout(180):
            while (await client.get(f"{survivor_url}/api/v1/campaigns/{campaign_id}")).json()["status"] != (
                "completed"
            ):
                await asyncio.sleep(0.5)

    leads, placed = await leads_of(sessions, campaign_id), await calls_of(sessions, campaign_id)
    assert {lead["status"] for lead in leads} == {"exhausted"}, leads
    for lead in leads:
        own = [call for call in placed if call["lead_id"] == lead["lead_id"]]
        assert len(own) == lead["attempts"] == MAX_ATTEMPTS
        for earlier, later in itertools.pairwise(own):
            assert earlier["ended_at"] is not None and earlier["ended_at"] <= later["created_at"]
