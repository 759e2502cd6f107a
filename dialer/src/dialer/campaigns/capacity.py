"""All SQL behind pacing: the calls a campaign has in flight, the free capacity of the AI agents and of the
trunks (from ``capacity_reports``, which the ai-agents and the bridges refresh every few seconds), and the
calls placed to a number recently."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialer.tables import calls, capacity_reports
from dialplane.calls import CallStatus
from dialplane.capacity import AGENT_RESOURCE, TRUNK_RESOURCE_PREFIX

REPORT_FRESH_SECONDS = 10
IN_FLIGHT = [status.value for status in CallStatus if not status.is_terminal]


async def in_flight_calls(session: AsyncSession, campaign_id: uuid.UUID) -> int:
    query = select(func.count()).where(calls.c.campaign_id == campaign_id, calls.c.status.in_(IN_FLIGHT))
    return int((await session.execute(query)).scalar_one())


async def free_agents(session: AsyncSession) -> int:
    """Conversations the live ai-agents can still take: their capacity minus every agent call in flight
    (a call being dialed will need an agent when it is answered)."""
    capacity = await _reported_capacity(session, capacity_reports.c.resource == AGENT_RESOURCE)
    busy = select(func.count()).where(calls.c.mode == "agent", calls.c.status.in_(IN_FLIGHT))
    return capacity - int((await session.execute(busy)).scalar_one())


async def free_lines(session: AsyncSession) -> int:
    """Calls the trunks of the live bridges can still carry, minus every call in flight."""
    trunks = capacity_reports.c.resource.startswith(TRUNK_RESOURCE_PREFIX)
    capacity = await _reported_capacity(session, trunks)
    busy = select(func.count()).where(calls.c.status.in_(IN_FLIGHT))
    return capacity - int((await session.execute(busy)).scalar_one())


async def _reported_capacity(session: AsyncSession, which: ColumnElement[bool]) -> int:
    fresh = capacity_reports.c.seen_at > func.clock_timestamp() - dt.timedelta(seconds=REPORT_FRESH_SECONDS)
    query = select(func.coalesce(func.sum(capacity_reports.c.capacity), 0)).where(which, fresh)
    return int((await session.execute(query)).scalar_one())


async def recent_attempts(session: AsyncSession, phone: str, since: dt.datetime) -> tuple[dt.datetime, ...]:
    """When calls to ``phone`` were placed (refused ones are not attempts) since ``since``."""
    query = select(calls.c.created_at).where(
        calls.c.to_number == phone, calls.c.created_at > since, calls.c.refused_by.is_(None)
    )
    return tuple((await session.execute(query)).scalars())
