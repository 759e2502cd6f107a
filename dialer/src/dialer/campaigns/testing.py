"""Test support for campaigns: leads and capacity reports straight in the database, and a campaign lead's
row as stored."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import insert, select

from dialer.tables import campaign_leads, capacity_reports, leads
from dialplane.db import SessionFactory, transaction

CAMPAIGN_SCOPES = frozenset({"campaigns:read", "campaigns:write", "calls:read", "calls:write"})


async def add_lead(sessions: SessionFactory, phone: str, **values: Any) -> uuid.UUID:
    lead_id = uuid.uuid4()
    async with transaction(sessions) as session:
        row = {"id": lead_id, "phone": phone, "created_by": "api_key:test"} | values
        await session.execute(insert(leads).values(**row))
    return lead_id


async def report_capacity(sessions: SessionFactory, *, agents: int = 10, lines: int = 10) -> None:
    """Capacity as a live ai-agent and a live bridge would report it."""
    async with transaction(sessions) as session:
        await session.execute(
            insert(capacity_reports).values(
                [
                    {"resource": "agent", "instance": "test", "capacity": agents, "in_use": 0},
                    {"resource": "trunk:test-carrier", "instance": "test", "capacity": lines, "in_use": 0},
                ]
            )
        )


async def campaign_lead(sessions: SessionFactory, campaign_id: str, lead_id: uuid.UUID) -> dict[str, Any]:
    async with transaction(sessions) as session:
        query = select(campaign_leads).where(
            campaign_leads.c.campaign_id == uuid.UUID(campaign_id), campaign_leads.c.lead_id == lead_id
        )
        return dict((await session.execute(query)).one()._mapping)
