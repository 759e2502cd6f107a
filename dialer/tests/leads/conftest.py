"""Fixtures of the leads tests: the running dialer, signed as a partner's API key that may read and write
leads, and helpers that put leads straight into the states a test needs."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest_asyncio
from sqlalchemy import insert, update

from dialer.settings import Settings
from dialer.tables import campaign_leads, leads
from dialer.testing import FixedClock, dialer_client, principal
from dialplane.db import SessionFactory, transaction

LEADS = "/api/v1/leads"
LEAD_SCOPES = ("leads:read", "leads:write")
PARTNER_KEY = principal(LEAD_SCOPES, principal_id="api_key:k1")  # named "test key"


@pytest_asyncio.fixture
async def client(
    settings: Settings, sessions: SessionFactory, clock: FixedClock
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the running dialer, signed as an API key with leads:read and leads:write."""
    async with dialer_client(settings, clock=clock, who=PARTNER_KEY) as client:
        yield client


async def create(client: httpx.AsyncClient, phone: str = "+12025550100", **body: Any) -> dict[str, Any]:
    response = await client.post(LEADS, json={"phone": phone, **body})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def set_columns(sessions: SessionFactory, lead_id: str, **values: Any) -> None:
    """Change a lead's row directly (as the campaign dialer would, or to place it in time)."""
    async with transaction(sessions) as session:
        await session.execute(update(leads).where(leads.c.id == uuid.UUID(lead_id)).values(**values))


async def join_campaign(sessions: SessionFactory, campaign_id: uuid.UUID, *lead_ids: str) -> None:
    async with transaction(sessions) as session:
        for lead_id in lead_ids:
            await session.execute(
                insert(campaign_leads).values(campaign_id=campaign_id, lead_id=uuid.UUID(lead_id))
            )
