"""Fixtures of the reporting tests: a client allowed to read campaigns and analytics, and rows written
straight into the tables (leads, campaign leads, calls, refusals) with the times and results each test
needs."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest_asyncio
from sqlalchemy import insert, update

from dialer.settings import Settings
from dialer.tables import calls, campaign_leads, campaigns, dial_refusals, leads
from dialer.testing import NOON_IN_NEW_YORK, FixedClock, dialer_client, principal
from dialplane.db import SessionFactory, transaction

NOW = NOON_IN_NEW_YORK  # the clock of the fixtures' dialer
READER = principal({"campaigns:read", "analytics:read"})
_phones = iter(range(100, 10_000))


def ago(**delta: float) -> dt.datetime:
    return NOW - dt.timedelta(**delta)


@pytest_asyncio.fixture
async def client(
    settings: Settings, sessions: SessionFactory, clock: FixedClock
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the running dialer, signed as a principal with campaigns:read and analytics:read."""
    async with dialer_client(settings, clock=clock, who=READER) as client:
        yield client


async def add_lead(
    sessions: SessionFactory,
    *,
    language: str | None = None,
    status: str = "pending",
    created_at: dt.datetime = NOW,
) -> uuid.UUID:
    lead_id = uuid.uuid4()
    values = {
        "id": lead_id,
        "phone": f"+1202555{next(_phones):04d}",
        "language": language,
        "status": status,
        "created_by": "api_key:test",
        "created_at": created_at,
    }
    await _insert(sessions, leads, values)
    return lead_id


async def add_campaign_lead(
    sessions: SessionFactory,
    campaign_id: uuid.UUID,
    lead_id: uuid.UUID,
    status: str = "pending",
    *,
    next_attempt_at: dt.datetime | None = None,
    created_at: dt.datetime = NOW,
) -> None:
    values = {
        "campaign_id": campaign_id,
        "lead_id": lead_id,
        "status": status,
        "next_attempt_at": next_attempt_at,
        "created_at": created_at,
    }
    await _insert(sessions, campaign_leads, values)


async def add_call(
    sessions: SessionFactory, *, created_at: dt.datetime, status: str = "completed", **values: Any
) -> uuid.UUID:
    """An agent call (profile ``default``) to +12025550101 created at ``created_at``; ``values``: other
    columns. ``answered_by`` given and ``answered_at`` not: answered a minute after it was created; a
    completed answered call ends ``duration_seconds`` later."""
    call_id = uuid.uuid4()
    row: dict[str, Any] = {
        "id": call_id,
        "created_by": "api_key:test",
        "to_number": "+12025550101",
        "mode": "agent",
        "agent": {"profile": "default"},
        "status": status,
        "ring_timeout_seconds": 30,
        "machine_detection": True,
        "status_callback_events": [],
        "metadata": {},
        "created_at": created_at,
    } | values
    if row.get("answered_by") and "answered_at" not in row:
        row["answered_at"] = created_at + dt.timedelta(minutes=1)
    if status == "completed" and row.get("answered_at") and row.get("duration_seconds") is not None:
        row.setdefault("ended_at", row["answered_at"] + dt.timedelta(seconds=row["duration_seconds"]))
    await _insert(sessions, calls, row)
    return call_id


async def add_refusal(sessions: SessionFactory, campaign_id: uuid.UUID | None, rule: str) -> None:
    values = {"campaign_id": campaign_id, "number": "+12025550101", "rule": rule, "reason": "a test refusal"}
    await _insert(sessions, dial_refusals, values)


async def set_campaign_status(sessions: SessionFactory, campaign_id: uuid.UUID, status: str) -> None:
    """Set once its rows are in (the dialer's campaign runner completes a running campaign without leads)."""
    async with transaction(sessions) as session:
        await session.execute(update(campaigns).where(campaigns.c.id == campaign_id).values(status=status))


async def _insert(sessions: SessionFactory, table: Any, values: dict[str, Any]) -> None:
    async with transaction(sessions) as session:
        await session.execute(insert(table).values(**values))
